import { Injectable } from '@nestjs/common';
import type { Quota } from './quota.entity';
import {
  isWindowType,
  standingOf,
  subjectOf,
  windowOf,
  type Standing,
  type Subject,
  type Submitter,
  type WindowType,
} from './quota-rules';
import { SpendRepository, type SubjectRead, type SubjectUsage, type WindowStarts } from './spend.repository';

const HOUR_MS = 3600_000;

/** The window starts at `now` that one usage read measures. */
export function windowStarts(now: Date): WindowStarts {
  return {
    day: windowOf('cost_daily', now).start,
    month: windowOf('cost_monthly', now).start,
    hourAgo: new Date(now.getTime() - HOUR_MS),
    dayAgo: new Date(now.getTime() - 24 * HOUR_MS),
  };
}

const subjectKey = (s: Subject) => `${s.kind}:${s.id}`;

/** The subjects the window quotas count, each read from the earliest window start it needs. */
export function subjectReads(quotas: Quota[], who: Submitter, now: Date): SubjectRead[] {
  const reads = new Map<string, SubjectRead>();
  for (const q of quotas) {
    if (!isWindowType(q.type)) continue;
    const subject = subjectOf(q, who);
    const start = windowOf(q.type, now).start;
    const known = reads.get(subjectKey(subject));
    if (!known || start < known.since) reads.set(subjectKey(subject), { subject, since: start });
  }
  return [...reads.values()];
}

/**
 * Each window quota's standing from its subjects' usage, `requested` being what a submit adds (its cost estimate
 * to cost quotas, one job to the counts; null: nothing, as /quotas/me asks).
 */
export function standingsFrom(
  quotas: Quota[],
  who: Submitter,
  usage: Map<string, SubjectUsage>,
  requested: { cost: number } | null,
  now: Date,
): Standing[] {
  return quotas
    .filter((q) => isWindowType(q.type))
    .map((q) => {
      const type = q.type as WindowType;
      const subject = subjectOf(q, who);
      const add = requested === null ? 0 : type.startsWith('cost') ? requested.cost : 1;
      const used = usage.get(subjectKey(subject))![type];
      return standingOf(q, subject, windowOf(type, now), used, add, now);
    });
}

/** Measures quotas: what their subjects have used in their current windows. */
@Injectable()
export class QuotaMeter {
  constructor(private readonly spend: SpendRepository) {}

  /** The window quotas' standings for this person now, nothing requested (one statement). */
  async standings(quotas: Quota[], who: Submitter, now: Date): Promise<Standing[]> {
    const usage = await this.spend.windowUsage(subjectReads(quotas, who, now), windowStarts(now));
    return standingsFrom(quotas, who, usage, null, now);
  }

  /** Jobs dispatching or running for a concurrent_jobs quota's subject. */
  slotsInUse(quota: Quota, who: Submitter): Promise<number> {
    return this.spend.slotsInUse(subjectOf(quota, who));
  }

  /**
   * What a quota's subject has used now: a user, org or provider quota's own subject; for a global or level quota
   * (a per-user default) the user who has used the most.
   */
  async used(quota: Quota, now: Date): Promise<number> {
    const type = quota.type;
    if (quota.scope === 'global' || quota.scope === 'level') {
      const since = isWindowType(type) ? windowOf(type, now).start : now;
      return this.spend.highestPerUser(type, since, quota.scope === 'level' ? quota.scopeId : null);
    }
    const subject: Subject = { kind: quota.scope, id: quota.scopeId! };
    if (!isWindowType(type)) return this.spend.slotsInUse(subject);
    const usage = await this.spend.windowUsage([{ subject, since: windowOf(type, now).start }], windowStarts(now));
    return usage.get(subjectKey(subject))![type].used;
  }
}
