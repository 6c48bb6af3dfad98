import { Injectable } from '@nestjs/common';
import type { Statement } from '../database/locked-write';
import { Db } from '../database/transaction-host';
import type { Subject, SubjectKind, WindowType, WindowUsage } from './quota-rules';

/** A subject's usage in every window a submit may check, read in one scan of its window's index range. */
export type SubjectUsage = Record<WindowType, WindowUsage>;

/** The windows a usage read measures, as their starts (each subject is read from the earliest it needs). */
export interface WindowStarts {
  day: Date;
  month: Date;
  hourAgo: Date;
  dayAgo: Date;
}

/** The column a subject's jobs are found by: each is the leading column of a spend index (user, org, provider). */
const SUBJECT_COLUMN: Record<SubjectKind, string> = { user: 'user_id', org: 'org_id', provider: 'provider' };

/**
 * What a job costs in a window: its actual cost once known, else its estimate; a job cancelled before it was ever
 * dispatched (no provider id) cost nothing.
 */
const JOB_SPEND = `CASE WHEN status = 'cancelled' AND external_id IS NULL THEN 0 ELSE coalesce(cost_usd, cost_estimate) END`;

export const USAGE_GROUPS = ['day', 'user', 'org', 'hardware_profile', 'provider'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

/** One row of the usage report (the totals row has a null key). */
export interface UsageRow {
  key: string | null;
  label: string | null;
  jobs: number;
  completed: number;
  failed: number;
  cancelled: number;
  cost_usd: number;
  open_estimate: number;
  gpu_seconds: number;
}

const GROUP_KEY: Record<UsageGroup, string> = {
  day: `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  user: 'user_id::text',
  org: 'org_id::text',
  hardware_profile: 'hardware_profile',
  provider: 'provider',
};

/** GPUs of a profile: `h100-x4` runs on four. */
const GPUS = `CASE WHEN hardware_profile ~ '-x[0-9]+$' THEN substring(hardware_profile FROM '-x([0-9]+)$')::int ELSE 1 END`;

/**
 * Reads over the jobs (and the queue's slots) that spend governance measures: window sums at submit, the usage
 * report, the metrics. Read-only aggregates; the rows themselves belong to the jobs and queue modules.
 */
@Injectable()
export class SpendRepository {
  constructor(private readonly db: Db) {}

  /**
   * Each subject's cost (day, month) and submissions (rolling hour, day) with the oldest counted one, in one
   * statement: per subject one range scan of its spend index, from the earliest window it needs.
   */
  async windowUsage(subjects: SubjectRead[], at: WindowStarts): Promise<Map<string, SubjectUsage>> {
    if (subjects.length === 0) return new Map();
    const { sql, params } = usageStatement(subjects, at);
    return usageBySubject(await this.db.tx.query<UsageDbRow[]>(sql, params));
  }

  /**
   * The submit's read under its locks, as one statement returning one row: the subjects' window usage, and which
   * of `marks` (a cost quota's 80 % notice for a subject and window) were already recorded.
   */
  spendRead(subjects: SubjectRead[], at: WindowStarts, marks: ThresholdMark[]): Statement {
    const usage = usageStatement(subjects, at);
    const n = usage.params.length + 1;
    return {
      sql: `SELECT (SELECT coalesce(json_agg(u), '[]') FROM (${usage.sql}) u) AS usage,
                   (SELECT coalesce(json_agg(json_build_object('quota_id', t.quota_id, 'subject_id', t.subject_id)), '[]')
                      FROM quota_thresholds t
                      JOIN jsonb_to_recordset($${n}::jsonb) AS m(quota_id uuid, subject_id text, window_start timestamptz)
                        ON t.quota_id = m.quota_id AND t.subject_id = m.subject_id AND t.window_start = m.window_start)
                     AS marks`,
      params: [...usage.params, JSON.stringify(marks)],
    };
  }

  /**
   * quota_guard() over the subjects' usage now: passes while every condition still holds (each window's usage plus
   * what the submit adds within its limit, and short of 80 % of a cost quota unless its notice went out).
   */
  guard(subjects: SubjectRead[], at: WindowStarts, conditions: GuardCondition[]): Statement {
    const usage = usageStatement(subjects, at);
    const params = [...usage.params];
    const p = (v: unknown) => `$${params.push(v)}`;
    const checks = conditions.map((c) => {
      const used = `(SELECT ${c.type} FROM u WHERE subject = ${p(c.subject)})`;
      const within = `${used} + ${p(c.requested)}::float8 <= ${p(c.limit)}::float8 + 1e-9`;
      if (!c.mark) return within;
      const marked = `EXISTS (SELECT 1 FROM quota_thresholds WHERE quota_id = ${p(c.mark.quota_id)}::uuid
                        AND subject_id = ${p(c.mark.subject_id)} AND window_start = ${p(c.mark.window_start)}::timestamptz)`;
      return `${within} AND (${used} + ${p(c.requested)}::float8 < ${p(c.markAt)}::float8 - 1e-9 OR ${marked})`;
    });
    return { sql: `WITH u AS (${usage.sql}) SELECT quota_guard(${checks.join(' AND ')})`, params };
  }

  /**
   * The subjects' spend as the claim weighs a budget: the jobs already dispatched (actual cost once known, else
   * their estimate) and those being dispatched now, not the ones still waiting. One statement (see usageStatement).
   */
  dispatchedSpend(subjects: SubjectRead[], at: WindowStarts): Statement {
    const params: unknown[] = [at.day, at.month];
    const selects = subjects.map(({ subject, since }) => {
      params.push(`${subject.kind}:${subject.id}`, subject.id, since);
      const n = params.length;
      const column = SUBJECT_COLUMN[subject.kind];
      return `SELECT $${n - 2}::text AS subject,
          coalesce(sum(c) FILTER (WHERE created_at >= $1), 0)::float8 AS cost_daily,
          coalesce(sum(c) FILTER (WHERE created_at >= $2), 0)::float8 AS cost_monthly
        FROM (SELECT created_at, ${JOB_SPEND} AS c FROM jobs
               WHERE ${column} = $${n - 1} AND created_at >= $${n} AND status NOT IN ('pending', 'uploading')
              UNION ALL
              SELECT j.created_at, j.cost_estimate FROM queue_entries q JOIN jobs j ON j.job_id = q.job_id
               WHERE q.status = 'dispatching' AND j.${column} = $${n - 1} AND j.created_at >= $${n}
                 AND j.status IN ('pending', 'uploading')) w`;
    });
    return { sql: selects.join(' UNION ALL '), params };
  }

  /** Dispatching and running entries of a subject: what a concurrent_jobs quota counts. */
  async slotsInUse(subject: Subject): Promise<number> {
    const [row] = await this.db.tx.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM queue_entries
        WHERE status IN ('dispatching', 'running') AND ${SUBJECT_COLUMN[subject.kind]} = $1`,
      [subject.id],
    );
    return row.n;
  }

  /**
   * A per-user quota's highest use across users (the metric of a global or level quota): cost or submissions in
   * the window, or slots in use; `level` narrows to that level's users.
   */
  async highestPerUser(type: WindowType | 'concurrent_jobs', since: Date, level: string | null): Promise<number> {
    const measure =
      type === 'concurrent_jobs'
        ? `SELECT count(*) AS v FROM queue_entries e WHERE status IN ('dispatching', 'running') AND %USER% GROUP BY user_id`
        : `SELECT ${type.startsWith('cost') ? `sum(${JOB_SPEND})` : 'count(*)'} AS v FROM jobs e
            WHERE created_at ${type.startsWith('cost') ? '>=' : '>'} $1 AND %USER% GROUP BY user_id`;
    const user = level ? `e.user_id IN (SELECT id FROM users WHERE level = $2)` : 'true';
    const [row] = await this.db.tx.query<{ v: number | null }[]>(
      `SELECT max(v)::float8 AS v FROM (${measure.replace('%USER%', user)}) m`,
      level ? [since, level] : [since],
    );
    return row.v ?? 0;
  }

  /** The usage report: rows grouped by `group`, and the totals, in one statement (grouping sets). */
  async report(group: UsageGroup, from: Date, to: Date, scope: { userId?: string; orgId?: string }, now: Date) {
    const params: unknown[] = [from, to, now];
    let where = 'created_at >= $1 AND created_at < $2';
    if (scope.userId) where += ` AND user_id = $${params.push(scope.userId)}`;
    if (scope.orgId) where += ` AND org_id = $${params.push(scope.orgId)}`;
    const key = GROUP_KEY[group];
    const label =
      group === 'user'
        ? '(SELECT username FROM users WHERE id::text = g.key)'
        : group === 'org'
          ? '(SELECT name FROM orgs WHERE id::text = g.key)'
          : 'NULL';
    const rows = await this.db.tx.query<(UsageRow & { total: boolean })[]>(
      `SELECT g.*, ${label} AS label FROM (
         SELECT ${key} AS key, grouping(${key}) = 1 AS total, count(*)::int AS jobs,
                count(*) FILTER (WHERE status = 'completed')::int AS completed,
                count(*) FILTER (WHERE status = 'failed')::int AS failed,
                count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
                coalesce(sum(cost_usd), 0)::float8 AS cost_usd,
                coalesce(sum(cost_estimate) FILTER (WHERE cost_usd IS NULL
                  AND status IN ('pending', 'uploading', 'queued', 'running')), 0)::float8 AS open_estimate,
                coalesce(sum(${GPUS} * extract(epoch FROM (coalesce(completed_at, $3) - started_at)))
                  FILTER (WHERE started_at IS NOT NULL), 0)::float8 AS gpu_seconds
           FROM jobs WHERE ${where}
          GROUP BY GROUPING SETS ((${key}), ())) g
        ORDER BY g.total, g.key`,
      params,
    );
    const totals = rows.find((r) => r.total) ?? null;
    return { rows: rows.filter((r) => !r.total).map(strip), totals: totals ? strip(totals) : null };
  }

  /** Actual spend by provider and profile (jobs whose cost is known). */
  costTotals(): Promise<{ provider: string; hardware_profile: string; cost: number }[]> {
    return this.db.tx.query(
      `SELECT provider, hardware_profile, sum(cost_usd)::float8 AS cost FROM jobs
        WHERE cost_usd IS NOT NULL GROUP BY provider, hardware_profile`,
    );
  }
}

/** A subject to measure, from the earliest window start it needs. */
export interface SubjectRead {
  subject: Subject;
  since: Date;
}

/** One quota's condition for a guarded write (see SpendRepository.guard). */
export interface GuardCondition {
  /** `kind:id` of the subject, as the usage rows name it. */
  subject: string;
  type: WindowType;
  requested: number;
  limit: number;
  /** Cost quotas: the notice to look for, and the amount (80 % of the limit) it is sent at. */
  mark: ThresholdMark | null;
  markAt: number;
}

/** A cost quota's 80 % notice for one subject and window. */
export interface ThresholdMark {
  quota_id: string;
  subject_id: string;
  window_start: Date;
}

/** What spendRead's one row holds (JSON: timestamps as strings). */
export interface SpendReadRow {
  usage: UsageDbRow[];
  marks: { quota_id: string; subject_id: string }[];
}

function usageStatement(subjects: SubjectRead[], at: WindowStarts): Statement {
  const params: unknown[] = [at.day, at.month, at.hourAgo, at.dayAgo];
  const selects = subjects.map(({ subject, since }) => {
    params.push(`${subject.kind}:${subject.id}`, subject.id, since);
    const n = params.length;
    return `SELECT $${n - 2}::text AS subject,
        coalesce(sum(c) FILTER (WHERE created_at >= $1), 0)::float8 AS cost_daily,
        coalesce(sum(c) FILTER (WHERE created_at >= $2), 0)::float8 AS cost_monthly,
        count(*) FILTER (WHERE created_at > $3)::int AS jobs_per_hour,
        min(created_at) FILTER (WHERE created_at > $3) AS oldest_hour,
        count(*) FILTER (WHERE created_at > $4)::int AS jobs_per_day,
        min(created_at) FILTER (WHERE created_at > $4) AS oldest_day
      FROM (SELECT created_at, ${JOB_SPEND} AS c FROM jobs
             WHERE ${SUBJECT_COLUMN[subject.kind]} = $${n - 1} AND created_at >= $${n}) w`;
  });
  return { sql: selects.join(' UNION ALL '), params };
}

/** Usage rows (from a query, or from JSON with timestamps as strings) by `kind:id`. */
export function usageBySubject(rows: UsageDbRow[]): Map<string, SubjectUsage> {
  return new Map(rows.map((r) => [r.subject, toUsage(r)]));
}

interface UsageDbRow {
  subject: string;
  cost_daily: number;
  cost_monthly: number;
  jobs_per_hour: number;
  oldest_hour: Date | string | null;
  jobs_per_day: number;
  oldest_day: Date | string | null;
}

function toUsage(r: UsageDbRow): SubjectUsage {
  return {
    cost_daily: { used: r.cost_daily, oldest: null },
    cost_monthly: { used: r.cost_monthly, oldest: null },
    jobs_per_hour: { used: r.jobs_per_hour, oldest: r.oldest_hour === null ? null : new Date(r.oldest_hour) },
    jobs_per_day: { used: r.jobs_per_day, oldest: r.oldest_day === null ? null : new Date(r.oldest_day) },
  };
}

function strip(r: UsageRow & { total: boolean }): UsageRow {
  const { total: _total, ...row } = r;
  return row;
}
