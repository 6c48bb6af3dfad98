import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import type { WritePart } from '../database/combined-write';
import { entityRows } from '../database/entity-rows';
import { Db, returnedRows } from '../database/transaction-host';
import { QueueEntry, QueueEntryStatus } from './queue-entry.entity';

/**
 * Entries not in flight. The indexes for listings and the dispatch rate hold only these: an entry changes status
 * twice on its way to running, and each change writes an entry into every index that takes the new row version.
 * Entries in flight are at most the global limit and have an index of their own (user_id, org_id).
 */
const SETTLED = `status NOT IN ('dispatching', 'running')`;
const IN_FLIGHT = `status IN ('dispatching', 'running')`;

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
  /** A scheduled start (the entry is then `blocked`, reason `scheduled` or `awaiting_approval`). */
  notBefore: Date | null;
  waitDeadline: Date | null;
}

/** How many pending entries come before entry `e` in dispatch order (along queue_entries_dispatch_order_idx). */
const PENDING_AHEAD_OF_E = `(SELECT count(*) FROM queue_entries p
    WHERE p.status = 'pending'
      AND (p.effective_priority > e.effective_priority
           OR (p.effective_priority = e.effective_priority AND (p.queued_at, p.job_id) < (e.queued_at, e.job_id))))::int`;

/** The queue's SQL (`queue_entries`). Every method joins the caller's transaction. */
@Injectable()
export class QueueRepository {
  constructor(private readonly db: Db) {}

  /**
   * A submitted job's entry, as its part of the submit's statement (queued_at is the statement's now()). Returns the
   * entry's 1-based position when pending: every pending entry of its priority or higher is ahead of the newest.
   */
  insertPart(e: NewEntry): WritePart {
    return {
      sql: `INSERT INTO queue_entries (job_id, user_id, org_id, provider, base_priority, effective_priority, status,
                                       blocked_reason, pending_since, next_aging_at, max_attempts, not_before,
                                       wait_deadline)
            VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12)
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
        e.notBefore,
        e.waitDeadline,
      ],
    };
  }

  /**
   * Scheduled entries whose start has come become pending (their aging starts now: next_aging_at due at once, so the
   * claim's aging sets their priority). Along queue_entries_scheduled_idx; returns how many.
   */
  async releaseScheduled(now: Date): Promise<number> {
    const rows = returnedRows(
      await this.db.tx.query(
        `UPDATE queue_entries
            SET status = 'pending', blocked_reason = NULL, not_before = NULL, pending_since = $1,
                next_aging_at = $1, effective_priority = COALESCE(priority_override, base_priority), updated_at = $1
          WHERE status = 'blocked' AND blocked_reason = 'scheduled' AND not_before <= $1
          RETURNING job_id`,
        [now],
      ),
    );
    return rows.length;
  }

  /** Jobs whose entry still waits (pending or blocked) past its wait deadline, oldest deadline first. */
  async pastWaitDeadline(now: Date, limit: number): Promise<string[]> {
    const rows: { job_id: string }[] = await this.db.tx.query(
      `SELECT job_id FROM queue_entries
        WHERE wait_deadline IS NOT NULL AND status IN ('pending', 'blocked') AND wait_deadline <= $1
        ORDER BY wait_deadline LIMIT $2`,
      [now, limit],
    );
    return rows.map((r) => r.job_id);
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
   * Accepted by the provider: these entries (still owned by this claim) now hold their slot as `running`. Returns
   * each one's attempt; the rows come back as one JSON document (a hundred protocol rows cost far more to parse).
   */
  async markRunning(jobIds: string[], token: string, now: Date): Promise<Map<string, number>> {
    const [row]: { owned: [string, number][] | null }[] = await this.db.tx.query(
      `WITH run AS (
         UPDATE queue_entries SET status = 'running', last_error = NULL, updated_at = $3
          WHERE job_id = ANY($1::uuid[]) AND status = 'dispatching' AND dispatch_token = $2
          RETURNING job_id, attempt)
       SELECT json_agg(json_build_array(job_id, attempt)) AS owned FROM run`,
      [jobIds, token, now],
    );
    return new Map(row.owned ?? []);
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
      `SELECT e.job_id, ${PENDING_AHEAD_OF_E} + 1 AS position
         FROM queue_entries e
        WHERE e.job_id = ANY($1::uuid[]) AND e.status = 'pending'`,
      [jobIds],
    );
    return new Map(rows.map((r) => [r.job_id, r.position]));
  }

  /** The position of the job whose id is the SQL expression `jobIdSql`, as an int expression (null: not pending). */
  positionColumn(jobIdSql: string): string {
    return `(SELECT ${PENDING_AHEAD_OF_E} + 1 FROM queue_entries e WHERE e.job_id = ${jobIdSql} AND e.status = 'pending')`;
  }

  async countsByStatus(): Promise<Record<string, number>> {
    const rows: { status: string; n: number }[] = await this.db.tx.query(
      `SELECT status, count(*)::int AS n FROM queue_entries GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /**
   * Measured waits over a recent window: dispatches made (entries past `dispatching`) and their mean wait from
   * entering the queue. The running ones come from the index of entries in flight (see SETTLED).
   */
  async recentDispatches(since: Date): Promise<{ count: number; avgWaitSeconds: number | null }> {
    const [row]: { n: number; avg_wait: string | null }[] = await this.db.tx.query(
      `SELECT count(*)::int AS n, avg(extract(epoch FROM dispatched_at - queued_at)) AS avg_wait
         FROM (SELECT dispatched_at, queued_at FROM queue_entries WHERE dispatched_at >= $1 AND ${SETTLED}
               UNION ALL
               SELECT dispatched_at, queued_at FROM queue_entries WHERE dispatched_at >= $1 AND status = 'running') d`,
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
    // Settled entries and entries in flight are read along different indexes (see SETTLED).
    const part = (status: string) => `SELECT * FROM queue_entries WHERE ${[...where, status].join(' AND ')}`;
    const matching = `(${part(SETTLED)} UNION ALL ${part(IN_FLIGHT)}) queue_entries`;
    const found: Record<string, unknown>[] = await this.db.tx.query(
      `SELECT ${rows.select}, count(*) OVER () AS total FROM ${matching}
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
      >(`SELECT count(*)::int AS n FROM ${matching}`, params);
      return { entries: [], total: n };
    }
    return { entries: found.map((r) => rows.toEntity(r)), total: found.length > 0 ? Number(found[0].total) : 0 };
  }
}
