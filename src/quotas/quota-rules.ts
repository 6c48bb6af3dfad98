import type { UserLevel } from '../auth';
import type { Quota, QuotaAction, QuotaType } from './quota.entity';

/** Whose jobs a quota counts: one user's own (user, level and global quotas), an org's, or a provider's. */
export type SubjectKind = 'user' | 'org' | 'provider';
export interface Subject {
  kind: SubjectKind;
  id: string;
}
/** The order subjects are locked in at submit: every submit takes them in this order, so none waits in a cycle. */
export const SUBJECT_ORDER: readonly SubjectKind[] = ['user', 'org', 'provider'];

/** Who is submitting (or asking what applies to them), and on which provider. */
export interface Submitter {
  userId: string;
  orgId: string;
  level: UserLevel;
  provider?: string;
}

/** The quota types a submit checks (concurrent jobs are the dispatcher's). */
export type WindowType = Exclude<QuotaType, 'concurrent_jobs'>;
export const isWindowType = (t: QuotaType): t is WindowType => t !== 'concurrent_jobs';
export const isCostType = (t: QuotaType): boolean => t === 'cost_daily' || t === 'cost_monthly';

const HOUR_MS = 3600_000;
const ROLLING_MS: Partial<Record<WindowType, number>> = { jobs_per_hour: HOUR_MS, jobs_per_day: 24 * HOUR_MS };

/** Whether an active quota applies to this submitter (a provider quota to a submit on it; to a person, all do). */
export function applies(q: Quota, who: Submitter): boolean {
  switch (q.scope) {
    case 'global':
      return true;
    case 'level':
      return q.scopeId === who.level;
    case 'user':
      return q.scopeId === who.userId;
    case 'org':
      return q.scopeId === who.orgId;
    case 'provider':
      return who.provider === undefined || q.scopeId === who.provider;
  }
}

/** Global and level quotas are per-user defaults: they count each user's own jobs, as a user quota does. */
export function subjectOf(q: Quota, who: Submitter): Subject {
  if (q.scope === 'org') return { kind: 'org', id: who.orgId };
  if (q.scope === 'provider') return { kind: 'provider', id: q.scopeId! };
  return { kind: 'user', id: who.userId };
}

/** A quota's window at `now`: where it starts and, for calendar windows, when it resets (UTC). */
export interface QuotaWindow {
  start: Date;
  /** Rolling windows count rows strictly after `start`; calendar windows from `start` on. */
  rollingMs: number | null;
  /** The next UTC midnight or first of the month; null for a rolling window (it depends on the oldest row). */
  resetsAt: Date | null;
}

export function windowOf(type: WindowType, now: Date): QuotaWindow {
  const rolling = ROLLING_MS[type];
  if (rolling !== undefined) return { start: new Date(now.getTime() - rolling), rollingMs: rolling, resetsAt: null };
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  if (type === 'cost_daily') {
    const d = now.getUTCDate();
    return { start: new Date(Date.UTC(y, m, d)), rollingMs: null, resetsAt: new Date(Date.UTC(y, m, d + 1)) };
  }
  return { start: new Date(Date.UTC(y, m, 1)), rollingMs: null, resetsAt: new Date(Date.UTC(y, m + 1, 1)) };
}

/** What a subject has used in a window: the sum (cost) or count (jobs), and its oldest counted job. */
export interface WindowUsage {
  used: number;
  oldest: Date | null;
}

/** One applicable quota measured at a submit (or for /quotas/me, with nothing requested). */
export interface Standing {
  quota: Quota;
  subject: Subject;
  window: QuotaWindow;
  /** Used before this submit. */
  used: number;
  /** What this submit adds: its estimate for cost quotas, 1 for job counts. */
  requested: number;
  /**
   * When the window frees room: the calendar reset, or when the oldest counted submission leaves the rolling
   * window (now + the window when nothing is counted yet).
   */
  resetsAt: Date;
}

export function standingOf(
  quota: Quota,
  subject: Subject,
  window: QuotaWindow,
  usage: WindowUsage,
  requested: number,
  now: Date,
): Standing {
  const resetsAt = window.resetsAt ?? new Date((usage.oldest ?? now).getTime() + (window.rollingMs ?? 0));
  return { quota, subject, window, used: usage.used, requested, resetsAt };
}

/** Sums of dollar amounts carry float noise: a limit is passed only by more than a billionth. */
const EPSILON = 1e-9;
const exceeds = (s: Standing): boolean => s.used + s.requested > s.quota.limit + EPSILON;

/** The first time a subject passes 80 % of a cost quota in a window (this submit takes it there). */
export const THRESHOLD_RATIO = 0.8;
function crossesThreshold(s: Standing): boolean {
  if (!isCostType(s.quota.type) || s.requested <= 0) return false;
  const mark = s.quota.limit * THRESHOLD_RATIO;
  return s.used < mark - EPSILON && s.used + s.requested >= mark - EPSILON;
}

/** What the applicable quotas decide about a submit. */
export interface QuotaVerdict {
  /** The block quota that refuses it (the one that frees room last), if any. */
  block: Standing | null;
  /** require_approval quotas it passes: the job waits for a lead. */
  holds: Standing[];
  /** warn quotas it passes: accepted, with warnings. */
  warns: Standing[];
  /** Cost quotas this submit takes past 80 % for the first time in their window (candidates). */
  crossings: Standing[];
}

export function decide(standings: Standing[]): QuotaVerdict {
  const over = (action: QuotaAction) => standings.filter((s) => s.quota.action === action && exceeds(s));
  const blocks = over('block').sort((a, b) => b.resetsAt.getTime() - a.resetsAt.getTime());
  return {
    block: blocks[0] ?? null,
    holds: over('require_approval'),
    warns: over('warn'),
    crossings: standings.filter(crossesThreshold),
  };
}

/** How a quota reads in a reason or a log line: `cost_daily quota of org 5f0c… (limit 100)`. */
export function describeQuota(q: Quota): string {
  const scope = q.scope === 'global' ? 'global' : `${q.scope} ${q.scopeId}`;
  return `${q.type} quota ${q.id} (${scope}, limit ${q.limit})`;
}
