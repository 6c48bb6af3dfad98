import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { lockUntilCommit } from '../database/advisory-lock';
import type { WritePart } from '../database/combined-write';
import { entityRows } from '../database/entity-rows';
import { affectedRows, Db, returnedRows } from '../database/transaction-host';
import { QueueEntry, QueueEntryStatus } from './queue-entry.entity';
import { AGING_CAP, AGING_STEP } from './queue-priority';

export interface SlotCount {
  userId: string;
  orgId: string;
  n: number;
}

/** What a new entry starts with: blocked (with its reason) or pending since a time, aging from then. */
export interface NewEntry {
  jobId: string;
  userId: string;
  orgId: string;
  provider: string;
  priority: number;
  blockedReason: string | null;
  pendingSince: Date | null;
  nextAgingAt: Date | null;
  maxAttempts: number;
}

export interface Candidate {
  jobId: string;
  userId: string;
  orgId: string;
  effectivePriority: number;
  /** Microseconds since the epoch: FIFO ties need the database's precision, not a Date's milliseconds. */
  queuedAtUs: number;
}

/** The queue's SQL (`queue_entries`). Every method joins the caller's transaction. */
@Injectable()
export class QueueRepository {
  constructor(private readonly db: Db) {}

  /** The claim's lock: held until the claim's transaction ends, so instances claim one at a time. */
  lockClaims(key: string): Promise<void> {
    return lockUntilCommit(this.db.tx, key);
  }

  /**
   * A submitted job's entry, as its part of the submit's statement (queued_at is the statement's now()). Returns the
   * entry's 1-based position when pending: every pending entry of its priority or higher is ahead of the newest.
   */
  insertPart(e: NewEntry): WritePart {
    return {
      sql: `INSERT INTO queue_entries (job_id, user_id, org_id, provider, base_priority, effective_priority, status,
                                       blocked_reason, pending_since, next_aging_at, max_attempts)
            VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10)
            RETURNING job_id, CASE WHEN status = 'pending' THEN
              (SELECT count(*) FROM queue_entries p WHERE p.status = 'pending' AND p.effective_priority >= $5)::int + 1
            END AS position`,
      params: [
        e.jobId,
        e.userId,
        e.orgId,
        e.provider,
        e.priority,
        e.blockedReason ? 'blocked' : 'pending',
        e.blockedReason,
        e.pendingSince,
        e.nextAgingAt,
        e.maxAttempts,
      ],
    };
  }

  /**
   * Plain SQL mapped through the entity's metadata, like JobsRepository.read: findOne() builds its query anew on
   * every call, which was the largest single cost of GET /api/queue/position/:id in bench:api's CPU profile.
   */
  async find(jobId: string, lock = false): Promise<QueueEntry | null> {
    const rows = entityRows(this.db.tx, QueueEntry);
    const [row]: Record<string, unknown>[] = await this.db.tx.query(
      `SELECT ${rows.select} FROM queue_entries WHERE job_id = $1${lock ? ' FOR UPDATE' : ''}`,
      [jobId],
    );
    return row ? rows.toEntity(row) : null;
  }

  findMany(jobIds: string[]): Promise<QueueEntry[]> {
    return this.db.tx.getRepository(QueueEntry).findBy({ jobId: In(jobIds) });
  }

  async update(
    jobId: string,
    patch: Partial<QueueEntry>,
    onlyIf?: { status?: QueueEntryStatus; token?: string },
  ): Promise<boolean> {
    const qb = this.db.tx.createQueryBuilder().update(QueueEntry).set(patch).where('job_id = :jobId', { jobId });
    if (onlyIf?.status) qb.andWhere('status = :st', { st: onlyIf.status });
    if (onlyIf?.token) qb.andWhere('dispatch_token = :tok', { tok: onlyIf.token });
    const res = await qb.execute();
    return (res.affected ?? 0) > 0;
  }

  /**
   * Stored aging: one UPDATE touching only rows whose next step is due (partial index on next_aging_at), so a
   * deep queue costs nothing here. Same rule as agedPriority().
   */
  async refreshAging(now: Date, starvationMinutes: number): Promise<number> {
    const res: unknown = await this.db.tx.query(
      `WITH due AS (
         SELECT job_id, COALESCE(priority_override, base_priority) AS start,
                GREATEST(0, floor(extract(epoch FROM ($1::timestamptz - pending_since)) / $2))::int AS k
           FROM queue_entries
          WHERE status = 'pending' AND next_aging_at IS NOT NULL AND next_aging_at <= $1
       )
       UPDATE queue_entries q
          SET effective_priority = GREATEST(due.start, LEAST($3, due.start + $4 * due.k)),
              next_aging_at = CASE WHEN due.start + $4 * due.k < $3
                                   THEN q.pending_since + make_interval(secs => (due.k + 1) * $2) END
         FROM due
        WHERE q.job_id = due.job_id`,
      [now, starvationMinutes * 60, AGING_CAP, AGING_STEP],
    );
    return affectedRows(res);
  }

  /** Slots in use (dispatching + running), by user and org. */
  async slotCounts(): Promise<SlotCount[]> {
    const rows: { user_id: string; org_id: string; n: number }[] = await this.db.tx.query(
      `SELECT user_id, org_id, count(*)::int AS n FROM queue_entries
        WHERE status IN ('dispatching', 'running') GROUP BY user_id, org_id`,
    );
    return rows.map((r) => ({ userId: r.user_id, orgId: r.org_id, n: r.n }));
  }

  /**
   * Each user's best dispatchable entries (at most `perUser`), one index probe per user: the cost depends on the
   * number of users, not on the queue depth. Saturated users and orgs are left out; the caller merges and orders.
   */
  async candidates(
    now: Date,
    perUser: number,
    skipUsers: string[],
    skipOrgs: string[],
    limit: number | null,
  ): Promise<Candidate[]> {
    const rows: { job_id: string; user_id: string; org_id: string; effective_priority: number; queued_us: string }[] =
      await this.db.tx.query(
        `SELECT c.job_id, c.user_id, c.org_id, c.effective_priority, (extract(epoch FROM c.queued_at) * 1000000)::bigint AS queued_us
         FROM users u
         CROSS JOIN LATERAL (
           SELECT q.job_id, q.user_id, q.org_id, q.effective_priority, q.queued_at
             FROM queue_entries q
            WHERE q.user_id = u.id AND q.status = 'pending'
              AND (q.not_before IS NULL OR q.not_before <= $1)
              AND q.org_id <> ALL($4::uuid[])
            ORDER BY q.effective_priority DESC, q.queued_at, q.job_id
            LIMIT $2
         ) c
        WHERE u.id <> ALL($3::uuid[])
        ORDER BY c.effective_priority DESC, c.queued_at, c.job_id
        LIMIT $5`,
        [now, perUser, skipUsers, skipOrgs, limit],
      );
    return rows.map((r) => ({
      jobId: r.job_id,
      userId: r.user_id,
      orgId: r.org_id,
      effectivePriority: r.effective_priority,
      queuedAtUs: Number(r.queued_us),
    }));
  }

  /**
   * The fast path: the head of the global dispatch order (index scan, read lazily), at most `examine` rows deep,
   * without saturated users/orgs or entries in backoff. Costs O(batch) whatever the depth and the number of users;
   * the caller falls back to candidates() when this head cannot fill the batch (e.g. one saturated user owns it).
   */
  async headOfQueue(
    now: Date,
    skipUsers: string[],
    skipOrgs: string[],
    limit: number,
    examine: number,
  ): Promise<Candidate[]> {
    const rows: { job_id: string; user_id: string; org_id: string; effective_priority: number; queued_us: string }[] =
      await this.db.tx.query(
        `SELECT h.job_id, h.user_id, h.org_id, h.effective_priority, (extract(epoch FROM h.queued_at) * 1000000)::bigint AS queued_us
         FROM (SELECT job_id, user_id, org_id, effective_priority, queued_at, not_before
                 FROM queue_entries WHERE status = 'pending'
                ORDER BY effective_priority DESC, queued_at, job_id
                LIMIT $5) h
        WHERE (h.not_before IS NULL OR h.not_before <= $1)
          AND h.user_id <> ALL($2::uuid[]) AND h.org_id <> ALL($3::uuid[])
        ORDER BY h.effective_priority DESC, h.queued_at, h.job_id
        LIMIT $4`,
        [now, skipUsers, skipOrgs, limit, examine],
      );
    return rows.map((r) => ({
      jobId: r.job_id,
      userId: r.user_id,
      orgId: r.org_id,
      effectivePriority: r.effective_priority,
      queuedAtUs: Number(r.queued_us),
    }));
  }

  /** Whether at least n entries are pending (reads at most n index entries). */
  async pendingAtLeast(n: number): Promise<boolean> {
    const [row]: { n: number }[] = await this.db.tx.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM queue_entries WHERE status = 'pending' LIMIT $1) x`,
      [n],
    );
    return row.n >= n;
  }

  /** Claims the chosen entries; each submission counts as an attempt. Runs under the claim lock. */
  async markDispatching(jobIds: string[], now: Date, token: string): Promise<string[]> {
    if (jobIds.length === 0) return [];
    const rows: unknown = await this.db.tx.query(
      `UPDATE queue_entries
          SET status = 'dispatching', dispatched_at = $2, dispatch_token = $3, attempt = attempt + 1,
              not_before = NULL, next_aging_at = NULL, updated_at = $2
        WHERE job_id = ANY($1::uuid[]) AND status = 'pending'
        RETURNING job_id`,
      [jobIds, now, token],
    );
    return returnedRows<{ job_id: string }>(rows).map((r) => r.job_id);
  }

  /** Accepted by the provider: these entries (still owned by this claim) now hold their slot as `running`. */
  async markRunning(jobIds: string[], token: string, now: Date): Promise<Map<string, number>> {
    const rows: unknown = await this.db.tx.query(
      `UPDATE queue_entries SET status = 'running', last_error = NULL, updated_at = $3
        WHERE job_id = ANY($1::uuid[]) AND status = 'dispatching' AND dispatch_token = $2
        RETURNING job_id, attempt`,
      [jobIds, token, now],
    );
    return new Map(returnedRows<{ job_id: string; attempt: number }>(rows).map((r) => [r.job_id, r.attempt]));
  }

  /**
   * `dispatching` entries whose dispatcher went quiet (crash, lost outcome), taken over with a fresh token so that
   * two instances never reconcile the same one and the old dispatcher can no longer record.
   */
  async takeOverStale(cutoff: Date, now: Date, token: string, limit: number): Promise<QueueEntry[]> {
    const rows: unknown = await this.db.tx.query(
      `UPDATE queue_entries SET dispatched_at = $2, dispatch_token = $3, updated_at = $2
        WHERE job_id IN (
          SELECT job_id FROM queue_entries
           WHERE status = 'dispatching' AND dispatched_at < $1
           ORDER BY dispatched_at LIMIT $4 FOR UPDATE SKIP LOCKED)
        RETURNING job_id`,
      [cutoff, now, token, limit],
    );
    const ids = returnedRows<{ job_id: string }>(rows).map((r) => r.job_id);
    return ids.length ? this.findMany(ids) : [];
  }

  /** Terminal job → finished entry (frees its slot); a finished entry stays as it is. */
  async finish(
    jobId: string,
    status: QueueEntryStatus,
    now: Date,
    reason?: string | null,
    keepDispatching = false,
  ): Promise<boolean> {
    const rows: unknown = await this.db.tx.query(
      `UPDATE queue_entries
          SET status = $2, finished_at = $3, updated_at = $3, next_aging_at = NULL,
              last_error = COALESCE($4, last_error)
        WHERE job_id = $1 AND status NOT IN ('completed', 'failed', 'cancelled'${keepDispatching ? ", 'dispatching'" : ''})
        RETURNING job_id`,
      [jobId, status, now, reason ?? null],
    );
    return returnedRows(rows).length > 0;
  }

  /**
   * Terminal jobs → finished entries (freeing their slots), in one statement. A `dispatching` entry is left to its
   * dispatcher, which cancels the prediction if needed and releases the slot when it records. Returns how many.
   */
  async finishEnded(ended: { jobId: string; status: QueueEntryStatus }[], now: Date): Promise<number> {
    if (ended.length === 0) return 0;
    const rows: unknown = await this.db.tx.query(
      `UPDATE queue_entries q
          SET status = v.status, finished_at = $3, updated_at = $3, next_aging_at = NULL
         FROM unnest($1::uuid[], $2::text[]) AS v(job_id, status)
        WHERE q.job_id = v.job_id AND q.status NOT IN ('completed', 'failed', 'cancelled', 'dispatching')
        RETURNING q.job_id`,
      [ended.map((e) => e.jobId), ended.map((e) => e.status), now],
    );
    return returnedRows(rows).length;
  }

  /** 1-based rank among pending entries in dispatch order (a job's `queue_position`). */
  async positions(jobIds: string[]): Promise<Map<string, number>> {
    if (jobIds.length === 0) return new Map();
    const rows: { job_id: string; position: number }[] = await this.db.tx.query(
      `SELECT e.job_id,
              (SELECT count(*) FROM queue_entries p
                WHERE p.status = 'pending'
                  AND (p.effective_priority > e.effective_priority
                       OR (p.effective_priority = e.effective_priority AND (p.queued_at, p.job_id) < (e.queued_at, e.job_id))))::int + 1
                AS position
         FROM queue_entries e
        WHERE e.job_id = ANY($1::uuid[]) AND e.status = 'pending'`,
      [jobIds],
    );
    return new Map(rows.map((r) => [r.job_id, r.position]));
  }

  async countsByStatus(): Promise<Record<string, number>> {
    const rows: { status: string; n: number }[] = await this.db.tx.query(
      `SELECT status, count(*)::int AS n FROM queue_entries GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /** Measured waits over a recent window: dispatches made and their mean wait from entering the queue. */
  async recentDispatches(since: Date): Promise<{ count: number; avgWaitSeconds: number | null }> {
    const [row]: { n: number; avg_wait: string | null }[] = await this.db.tx.query(
      `SELECT count(*)::int AS n, avg(extract(epoch FROM dispatched_at - queued_at)) AS avg_wait
         FROM queue_entries WHERE dispatched_at >= $1 AND status <> 'dispatching'`,
      [since],
    );
    return { count: row.n, avgWaitSeconds: row.avg_wait === null ? null : Number(row.avg_wait) };
  }

  async slotsFor(userId: string, orgId: string): Promise<{ user: number; org: number; total: number }> {
    const [row]: { u: number; o: number; t: number }[] = await this.db.tx.query(
      `SELECT count(*) FILTER (WHERE user_id = $1)::int AS u, count(*) FILTER (WHERE org_id = $2)::int AS o, count(*)::int AS t
         FROM queue_entries WHERE status IN ('dispatching', 'running')`,
      [userId, orgId],
    );
    return { user: row.u, org: row.o, total: row.t };
  }

  /** A page of entries, newest first, and how many match: one statement (a window count). */
  async list(
    scope: { userId?: string; orgId?: string },
    filter: { status?: QueueEntryStatus; limit: number; offset: number },
  ): Promise<{ entries: QueueEntry[]; total: number }> {
    const rows = entityRows(this.db.tx, QueueEntry);
    const params: unknown[] = [];
    const where: string[] = [];
    if (scope.userId) where.push(`user_id = $${params.push(scope.userId)}`);
    if (scope.orgId) where.push(`org_id = $${params.push(scope.orgId)}`);
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const found: Record<string, unknown>[] = await this.db.tx.query(
      `SELECT ${rows.select}, count(*) OVER () AS total FROM queue_entries ${clause}
        ORDER BY queue_entries.queued_at DESC, queue_entries.job_id
        LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, filter.limit, filter.offset],
    );
    if (found.length === 0 && filter.offset > 0) {
      // Paged past the end: the window count had no row to ride on.
      const [{ n }] = await this.db.tx.query<
        {
          n: number;
        }[]
      >(`SELECT count(*)::int AS n FROM queue_entries ${clause}`, params);
      return { entries: [], total: n };
    }
    return { entries: found.map((r) => rows.toEntity(r)), total: found.length > 0 ? Number(found[0].total) : 0 };
  }
}
