import { Injectable } from '@nestjs/common';
import { escapeLiteral, type Pool, type PoolClient, type QueryResult } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { advisoryKey } from '../database/advisory-lock';
import { Db } from '../database/transaction-host';
import { notPaused, PAUSED_CTE } from './dispatch-pauses.repository';
import { AGING_CAP, AGING_STEP } from './queue-priority';

interface SlotCount {
  userId: string;
  orgId: string;
  n: number;
}

/** A pending entry the claim may take; lists of them come in dispatch order. */
export interface Candidate {
  jobId: string;
  userId: string;
  orgId: string;
}

interface ClaimLimits {
  maxConcurrent: number;
  userMaxConcurrent: number;
  orgMaxConcurrent: number;
}

/** What the claim reads under its lock, in one statement (see ClaimRepository.read). */
export interface ClaimView {
  /** Entries whose aged priority was stored by this statement. */
  aged: number;
  /** Slots in use (dispatching + running), by user and org. */
  slots: SlotCount[];
  /**
   * The first dispatchable entries in dispatch order (users and orgs at their limit left out), at most `margin`
   * times the free room (none when the global limit is reached).
   */
  head: Candidate[];
  /** The most `head` could hold: shorter than that, it holds every dispatchable entry it examined. */
  headLimit: number;
  /** Some entry has been `dispatching` since before `staleBefore`: its dispatcher went quiet (reconcile it). */
  stale: boolean;
}

interface ReadRow {
  aged: number;
  stale: boolean;
  decided: boolean;
  head_limit: number;
  slots: SlotCount[] | null;
  claimed: string[] | null;
  head: Triple[] | null;
}

/** Rows come back as one JSON document: a hundred rows parse as one string, not a hundred protocol rows. */
type Triple = [string, string, string];
const toCandidates = (rows: Triple[] | null): Candidate[] =>
  (rows ?? []).map(([jobId, userId, orgId]) => ({ jobId, userId, orgId }));

/**
 * Stored aging, for rows whose next step is due (partial index on next_aging_at): same rule as agedPriority().
 * $1 now, $2 the starvation period in seconds, $3 the cap, $4 the step.
 */
const AGE_DUE = `
  UPDATE queue_entries q
     SET effective_priority = GREATEST(due.start, LEAST($3, due.start + $4 * due.k)),
         next_aging_at = CASE WHEN due.start + $4 * due.k < $3
                              THEN q.pending_since + make_interval(secs => (due.k + 1) * $2) END
    FROM (SELECT job_id, COALESCE(priority_override, base_priority) AS start,
                 GREATEST(0, floor(extract(epoch FROM ($1::timestamptz - pending_since)) / $2))::int AS k
            FROM queue_entries
           WHERE status = 'pending' AND next_aging_at IS NOT NULL AND next_aging_at <= $1) due
   WHERE q.job_id = due.job_id
  RETURNING q.job_id, q.user_id, q.org_id, q.provider, q.effective_priority, q.queued_at, q.not_before`;

/** An entry the claim may take: not backing off, its user and org below their limits, its scope not paused. */
const DISPATCHABLE = `(not_before IS NULL OR not_before <= $1)
  AND user_id <> ALL(ARRAY(SELECT user_id FROM full_users)) AND org_id <> ALL(ARRAY(SELECT org_id FROM full_orgs))
  AND ${notPaused()}`;

const ORDER = `effective_priority DESC, queued_at, job_id`;

/**
 * The aging, the slots in use and the head of the dispatch order, in one statement; and, when $11 allows it, the
 * claim itself if it is already decided. $1 now, $2 the starvation period in seconds, $3/$4 aging cap and step,
 * $5/$6/$7 the user, org and global limits, $8 the batch, $9 entries read per free slot, $10 how deep the head is
 * read, $11 whether to claim here, $12 the claim's token, $13 when a `dispatching` entry is stale.
 *
 * The aging UPDATE's new priorities are not visible to the head read of the same statement, so the rows it aged are
 * left out of the head and merged back from its RETURNING. The claim is decided here when the first `room` entries of
 * the head all fit their user's and org's limits (counting the slots in use and the entries before them), none of
 * them was just aged, and either there are `room` of them or the head holds every pending entry: the service's pick
 * would take exactly those. Otherwise (`decided` false) nothing is claimed; the head is returned (only without $11)
 * for the pick.
 */
const READ = `
  WITH aged AS (${AGE_DUE}),
  ${PAUSED_CTE},
  busy AS (SELECT user_id, org_id, count(*)::int AS n FROM queue_entries
            WHERE status IN ('dispatching', 'running') GROUP BY user_id, org_id),
  busy_users AS (SELECT user_id, sum(n)::int AS n FROM busy GROUP BY user_id),
  busy_orgs AS (SELECT org_id, sum(n)::int AS n FROM busy GROUP BY org_id),
  room AS (SELECT GREATEST(0, LEAST($8, $7 - COALESCE(sum(n), 0)))::int AS r FROM busy),
  full_users AS (SELECT user_id FROM busy_users WHERE n >= $5),
  full_orgs AS (SELECT org_id FROM busy_orgs WHERE n >= $6),
  head AS (
    (SELECT job_id, user_id, org_id, effective_priority, queued_at
       FROM (SELECT job_id, user_id, org_id, provider, effective_priority, queued_at, not_before
               FROM queue_entries WHERE status = 'pending' ORDER BY ${ORDER} LIMIT $10) h
      WHERE ${DISPATCHABLE} AND job_id <> ALL(ARRAY(SELECT job_id FROM aged))
      ORDER BY ${ORDER} LIMIT (SELECT r * $9 FROM room))
    UNION ALL
    (SELECT job_id, user_id, org_id, effective_priority, queued_at FROM aged
      WHERE ${DISPATCHABLE} ORDER BY ${ORDER} LIMIT (SELECT r * $9 FROM room))),
  top AS (SELECT h.*, row_number() OVER (ORDER BY ${ORDER}) AS k
            FROM (SELECT * FROM head ORDER BY ${ORDER} LIMIT (SELECT r * $9 FROM room)) h),
  first AS (SELECT * FROM top WHERE k <= (SELECT r FROM room)),
  fitting AS (
    SELECT COALESCE(bu.n, 0) + row_number() OVER (PARTITION BY f.user_id ORDER BY f.k) <= $5
       AND COALESCE(bo.n, 0) + row_number() OVER (PARTITION BY f.org_id ORDER BY f.k) <= $6
       AND f.job_id <> ALL(ARRAY(SELECT job_id FROM aged)) AS fits
      FROM first f LEFT JOIN busy_users bu USING (user_id) LEFT JOIN busy_orgs bo USING (org_id)),
  decided AS (
    SELECT $11 AND ((SELECT r FROM room) = 0
                    OR (COALESCE(bool_and(fits), true)
                        AND (count(*) = (SELECT r FROM room)
                             OR (SELECT count(*) FROM (SELECT 1 FROM queue_entries WHERE status = 'pending' LIMIT $10) p) < $10)))
           AS yes
      FROM fitting),
  claimed AS (
    UPDATE queue_entries q
       SET status = 'dispatching', dispatched_at = $1, dispatch_token = $12, attempt = attempt + 1,
           not_before = NULL, next_aging_at = NULL, updated_at = $1
      FROM first f
     WHERE q.job_id = f.job_id AND q.status = 'pending' AND (SELECT yes FROM decided)
    RETURNING q.job_id)
  SELECT (SELECT count(*)::int FROM aged) AS aged,
         EXISTS (SELECT 1 FROM queue_entries WHERE status = 'dispatching' AND dispatched_at < $13) AS stale,
         (SELECT yes FROM decided) AS decided,
         (SELECT r * $9 FROM room) AS head_limit,
         (SELECT json_agg(json_build_object('userId', user_id, 'orgId', org_id, 'n', n)) FROM busy) AS slots,
         (SELECT json_agg(job_id ORDER BY k) FROM first WHERE job_id IN (SELECT job_id FROM claimed)) AS claimed,
         CASE WHEN NOT $11 THEN
           (SELECT json_agg(json_build_array(job_id, user_id, org_id) ORDER BY k) FROM top) END AS head`;

/** Claims the chosen entries ($1): each submission counts as an attempt. $2 now, $3 the claim's token. */
const MARK_DISPATCHING = `
  UPDATE queue_entries
     SET status = 'dispatching', dispatched_at = $2, dispatch_token = $3, attempt = attempt + 1,
         not_before = NULL, next_aging_at = NULL, updated_at = $2
   WHERE job_id = ANY($1) AND status = 'pending'
  RETURNING job_id`;

/**
 * Each user's best entries ($2 per user), dispatch order, users $3 and orgs $4 and paused scopes left out, at most
 * $5. $1 now.
 */
const CANDIDATES = `
  WITH ${PAUSED_CTE}
  SELECT json_agg(json_build_array(c.job_id, c.user_id, c.org_id) ORDER BY ${ORDER}) AS head
    FROM (SELECT c.* FROM users u
          CROSS JOIN LATERAL (
            SELECT q.job_id, q.user_id, q.org_id, q.effective_priority, q.queued_at
              FROM queue_entries q
             WHERE q.user_id = u.id AND q.status = 'pending'
               AND (q.not_before IS NULL OR q.not_before <= $1)
               AND q.org_id <> ALL($4::uuid[])
               AND ${notPaused('q.')}
             ORDER BY q.effective_priority DESC, q.queued_at, q.job_id
             LIMIT $2
          ) c
         WHERE u.id <> ALL($3::uuid[])
         ORDER BY ${ORDER}
         LIMIT $5) c`;

/** What the claim reads under its lock (see READ) and how it reads further (see ClaimQueries). */
export interface ClaimInput {
  now: Date;
  starvationMinutes: number;
  limits: ClaimLimits;
  /** At most this many entries per claim. */
  batch: number;
  /** Entries read per free slot: limits filling within the batch skip some. */
  margin: number;
  /** How deep the head of the dispatch order is read. */
  examine: number;
  /** A `dispatching` entry older than this has lost its dispatcher. */
  staleBefore: Date;
  /** Quotas may hold entries (see DispatchGate): the claim always lets `choose` decide, never claims in its read. */
  gated?: boolean;
}

/** Reads a claim may add between its read and its write, in its transaction (the fallback of a short head). */
export interface ClaimQueries {
  /**
   * Each user's best dispatchable entries (at most `perUser`), one index probe per user: the cost depends on the
   * number of users, not on the queue depth. Saturated users and orgs are left out. In dispatch order.
   */
  candidates(perUser: number, skipUsers: string[], skipOrgs: string[], limit: number | null): Promise<Candidate[]>;
  /** Whether at least n entries are pending (reads at most n index entries). */
  pendingAtLeast(n: number): Promise<boolean>;
  /** Any read in the claim's transaction (the quotas' gate). */
  read<T>(sql: string, params: unknown[]): Promise<T[]>;
}

/** A statement with its parameters written in as literals, for a message of several statements. */
function inline(sql: string, params: unknown[]): string {
  return sql.replace(/\$(\d+)\b/g, (_, n: string) => literal(params[Number(n) - 1]));
}

function literal(v: unknown): string {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  if (v instanceof Date) return `${escapeLiteral(v.toISOString())}::timestamptz`;
  if (typeof v === 'string') return escapeLiteral(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
    return v.length === 0 ? `'{}'::uuid[]` : `ARRAY[${v.map((x) => escapeLiteral(x)).join(', ')}]::uuid[]`;
  }
  throw new Error(`No literal for ${typeof v} in a claim statement`);
}

/**
 * The claim's SQL on `queue_entries`: one short transaction under a transaction-level advisory lock, so instances
 * claim one at a time and never count the same free slot twice.
 *
 * The transaction is sent in two messages on a pooled connection of its own, not through TypeORM's transaction:
 * `BEGIN; lock; read` and, once the caller has chosen, `UPDATE; COMMIT`. TypeORM would send each of those six
 * statements as a round trip of its own, and every round trip waits for the database's turn on the CPU: on a busy
 * host that was most of a tick. Each statement of a message still takes its own snapshot, so the read sees every
 * claim committed before the lock was granted. Parameters are written in as literals (a message of several
 * statements cannot carry bound parameters); they are numbers, dates, uuids and the claim's token.
 */
@Injectable()
export class ClaimRepository {
  constructor(private readonly db: Db) {}

  /**
   * Claims a batch: usually in one message (`BEGIN; lock; read and claim; COMMIT`), when the head of the queue fits
   * the limits as it is (see READ). Otherwise `choose` picks from the head read again under the lock, and the claim
   * takes two more messages (`BEGIN; lock; read`, then `UPDATE; COMMIT`). Returns the claimed entries in dispatch
   * order.
   */
  async claim(
    lockKey: string,
    input: ClaimInput,
    token: string,
    choose: (view: ClaimView, more: ClaimQueries) => Promise<string[]>,
  ): Promise<{ view: ClaimView; claimed: string[] }> {
    if (this.db.tx.queryRunner?.isTransactionActive) throw new Error('The claim runs in a transaction of its own');
    const pool = (this.db.tx.connection.driver as PostgresDriver).master as Pool;
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const quick = input.gated ? null : await this.read(client, lockKey, input, token, true);
      if (quick?.claimed) return { view: quick.view, claimed: quick.claimed };
      // The first message committed its aging: the second read finds none left to do.
      const { view } = await this.read(client, lockKey, input, token, false);
      view.aged += quick?.view.aged ?? 0;
      view.stale ||= quick?.view.stale ?? false;
      const chosen = await choose(view, this.queries(client, input.now));
      const claimed = new Set(await this.markDispatching(client, chosen, input.now, token));
      return { view, claimed: chosen.filter((id) => claimed.has(id)) };
    } catch (err) {
      broken = await client.query('ROLLBACK').then(
        () => undefined,
        (e: Error) => e,
      );
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * `BEGIN; lock; read`, and with `claimHere` the claim when it is decided and `COMMIT`. `claimed` is null when the
   * claim is left to the caller (the transaction is then still open unless `claimHere`).
   */
  private async read(
    client: PoolClient,
    lockKey: string,
    input: ClaimInput,
    token: string,
    claimHere: boolean,
  ): Promise<{ view: ClaimView; claimed: string[] | null }> {
    const { now, limits } = input;
    const read = inline(READ, [
      now,
      input.starvationMinutes * 60,
      AGING_CAP,
      AGING_STEP,
      limits.userMaxConcurrent,
      limits.orgMaxConcurrent,
      limits.maxConcurrent,
      input.batch,
      // Claiming here takes the first `room` entries or none: no margin to read.
      claimHere ? 1 : input.margin,
      input.examine,
      claimHere,
      token,
      input.staleBefore,
    ]);
    const results = (await client.query(
      `BEGIN; SELECT pg_advisory_xact_lock(${advisoryKey(lockKey)}); ${read}${claimHere ? '; COMMIT' : ''}`,
    )) as unknown as QueryResult<ReadRow>[];
    const [row] = results[2].rows;
    const view = {
      aged: row.aged,
      slots: row.slots ?? [],
      head: toCandidates(row.head),
      headLimit: row.head_limit,
      stale: row.stale,
    };
    return { view, claimed: row.decided ? (row.claimed ?? []) : null };
  }

  /** `UPDATE; COMMIT`: the last message. Returns the entries it claimed (all of them unless one moved meanwhile). */
  private async markDispatching(client: PoolClient, jobIds: string[], now: Date, token: string): Promise<string[]> {
    if (jobIds.length === 0) {
      await client.query('COMMIT');
      return [];
    }
    const results = (await client.query(
      `${inline(MARK_DISPATCHING, [jobIds, now, token])}; COMMIT`,
    )) as unknown as QueryResult<{ job_id: string }>[];
    return results[0].rows.map((r) => r.job_id);
  }

  private queries(client: PoolClient, now: Date): ClaimQueries {
    return {
      candidates: async (perUser, skipUsers, skipOrgs, limit) => {
        const { rows } = await client.query<{ head: Triple[] | null }>(CANDIDATES, [
          now,
          perUser,
          skipUsers,
          skipOrgs,
          limit,
        ]);
        return toCandidates(rows[0].head);
      },
      pendingAtLeast: async (n) => {
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (SELECT 1 FROM queue_entries WHERE status = 'pending' LIMIT $1) x`,
          [n],
        );
        return rows[0].n >= n;
      },
      read: async <T>(sql: string, params: unknown[]) => (await client.query(sql, params)).rows as T[],
    };
  }
}
