import { Injectable } from '@nestjs/common';
import { AfterCommit } from '../database/after-commit';
import type { WritePart } from '../database/combined-write';
import { isSecretKey, REDACTED, redactString } from '../common/secrets';
import { Db } from '../database/transaction-host';
import type { AuthenticatedUser } from '../auth';
import { SqlParams, StreamFilter, visibilitySql } from './event-visibility';
import { EventPosition, LoggedEvent, NewEvent } from './events.types';

/** The channel whose notifications carry only a new event's id: a wake-up, never the payload. */
export const EVENTS_CHANNEL = 'simpletuner_events';

/**
 * The ids go out as text (bigint does not fit a JS number). Careful: a plain name in ORDER BY means the output
 * column when one has that name, so every ORDER BY here names the table's column (`events.id`), or ids would sort
 * as text (`10` before `7`) and a stream would skip events.
 */
const COLUMNS = `id::text AS id, tx_id::text AS tx_id, type, job_id, user_id::text AS user_id, org_id::text AS org_id, data, created_at`;

/**
 * The oldest transaction that may still commit an event row: the oldest transaction running when this statement's
 * snapshot was taken, leaving out those of other databases (they cannot write this table; in a shared cluster they
 * would only delay delivery), or the snapshot's xmax when none is left. A row with tx_id below it is safe: every
 * row that becomes visible later belongs to a transaction at or above it, so sorts after it. Backends whose
 * transaction ended since the snapshot cannot be placed and stay in (a wait, never a skip).
 */
const HORIZON = `(SELECT COALESCE(
     (SELECT min(x) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
       WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                          WHERE a.backend_xid = xid(x)
                            AND a.datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database()))),
     pg_snapshot_xmax(pg_current_snapshot())))`;

interface EventRow {
  id: string;
  tx_id: string;
  type: string;
  job_id: string | null;
  user_id: string | null;
  org_id: string | null;
  data: Record<string, unknown>;
  created_at: Date | string;
  safe?: boolean;
}

function toEvent(row: EventRow): LoggedEvent {
  return {
    id: row.id,
    type: row.type,
    jobId: row.job_id,
    userId: row.user_id,
    orgId: row.org_id,
    data: row.data,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
    position: { tx: BigInt(row.tx_id), id: BigInt(row.id) },
  };
}

/**
 * The flat payload clients receive: `{type, job_id, ...fields}`; the two reserved keys cannot be overridden, and
 * secret-named fields and secret-looking strings are masked (a provider's error message can quote a token).
 */
function flatPayload(event: NewEvent): Record<string, unknown> {
  const { type: _t, job_id: _j, ...fields } = (event.data ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(fields)) {
    if (isSecretKey(k)) fields[k] = REDACTED;
    else if (typeof v === 'string') fields[k] = redactString(v);
  }
  return { type: event.type, ...(event.jobId ? { job_id: event.jobId } : {}), ...fields };
}

function toRecord(e: NewEvent) {
  return {
    type: e.type,
    job_id: e.jobId ?? null,
    user_id: e.userId ?? null,
    org_id: e.orgId ?? null,
    data: flatPayload(e),
  };
}

/** The only place that writes SQL for the event log. */
@Injectable()
export class EventsRepository {
  constructor(
    private readonly db: Db,
    private readonly afterCommit: AfterCommit,
  ) {}

  /** `fn` runs after the current transaction commits (at once outside one). */
  whenCommitted(fn: () => void): void {
    this.afterCommit.run(fn);
  }

  /**
   * Inserts in the caller's transaction. With `notify`, pg_notify in the same statement: PostgreSQL delivers
   * the notification only if and when that transaction commits.
   */
  async insert(events: NewEvent[], notify: boolean): Promise<LoggedEvent[]> {
    if (events.length === 0) return [];
    const records = events.map(toRecord);
    // One notification per statement: it is only a wake-up (listeners re-read the table), and one per row would
    // make every instance wake once per event of a batch.
    const rows: Pick<EventRow, 'id' | 'tx_id' | 'created_at'>[] = await this.db.tx.query(
      `WITH ins AS (
         INSERT INTO events (type, job_id, user_id, org_id, data)
         SELECT type, job_id, user_id, org_id, data
           FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (type text, job_id text, user_id uuid, org_id uuid, data jsonb))
                WITH ORDINALITY AS r(type, job_id, user_id, org_id, data, n)
          ORDER BY n
         RETURNING id, tx_id, created_at)${notify ? `, woke AS (SELECT pg_notify('${EVENTS_CHANNEL}', max(id)::text) FROM ins)` : ''}
       SELECT ins.id::text AS id, ins.tx_id::text AS tx_id, ins.created_at FROM ins${notify ? ' CROSS JOIN woke' : ''} ORDER BY ins.id`,
      [JSON.stringify(records)],
    );
    // Ids are drawn in insertion order, so the i-th returned row is the i-th event.
    return rows.map((row, i) => toEvent({ ...row, ...records[i] }));
  }

  /**
   * The same insert for a caller that needs nothing back (a batch of status changes): the rows stay in the database,
   * and only the statement's one wake-up row comes back, so a hundred events cost no rows to parse or map.
   */
  async append(events: NewEvent[], notify: boolean): Promise<void> {
    if (events.length === 0) return;
    const insert = `INSERT INTO events (type, job_id, user_id, org_id, data)
       SELECT type, job_id, user_id, org_id, data
         FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (type text, job_id text, user_id uuid, org_id uuid, data jsonb))
              WITH ORDINALITY AS r(type, job_id, user_id, org_id, data, n)
        ORDER BY n`;
    const records = JSON.stringify(events.map(toRecord));
    await this.db.tx.query(
      notify
        ? `WITH ins AS (${insert} RETURNING id) SELECT pg_notify('${EVENTS_CHANNEL}', max(id)::text) IS NULL FROM ins`
        : insert,
      [records],
    );
  }

  /**
   * The events as one part of a combined statement (a submit's). A data-modifying CTE cannot hold a CTE of its own,
   * so the wake-up rides on the returned rows: one notification per event (a submit stores one or two).
   */
  insertPart(events: NewEvent[], notify: boolean): WritePart {
    return {
      sql: `INSERT INTO events (type, job_id, user_id, org_id, data)
            SELECT type, job_id, user_id, org_id, data
              FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (type text, job_id text, user_id uuid, org_id uuid, data jsonb))
                   WITH ORDINALITY AS r(type, job_id, user_id, org_id, data, n)
             ORDER BY n
            RETURNING id::text AS id${notify ? `, pg_notify('${EVENTS_CHANNEL}', id::text) IS NULL AS notified` : ''}`,
      params: [JSON.stringify(events.map(toRecord))],
    };
  }

  /**
   * The next rows after `after` in delivery order. `safe` is false for a row whose transaction is not yet older
   * than every running transaction of this database: it must wait, or an older transaction could still commit a
   * row that sorts before it.
   */
  async readAfter(after: EventPosition, limit: number): Promise<Array<LoggedEvent & { safe: boolean }>> {
    const rows: EventRow[] = await this.db.tx.query(
      `SELECT ${COLUMNS}, tx_id < ${HORIZON} AS safe
         FROM events WHERE (tx_id, id) > ($1::text::xid8, $2::bigint)
        ORDER BY events.tx_id, events.id LIMIT $3`,
      [after.tx.toString(), after.id.toString(), limit],
    );
    return rows.map((r) => ({ ...toEvent(r), safe: r.safe === true }));
  }

  /** The last position every instance may already have delivered: where a live-only stream starts. */
  async safeHead(): Promise<EventPosition | null> {
    const rows: EventRow[] = await this.db.tx.query(
      `SELECT id::text AS id, tx_id::text AS tx_id FROM events
        WHERE tx_id < ${HORIZON}
        ORDER BY events.tx_id DESC, events.id DESC LIMIT 1`,
    );
    return rows.length ? { tx: BigInt(rows[0].tx_id), id: BigInt(rows[0].id) } : null;
  }

  async findPosition(id: bigint): Promise<EventPosition | null> {
    const rows: EventRow[] = await this.db.tx.query(
      `SELECT id::text AS id, tx_id::text AS tx_id FROM events WHERE id = $1`,
      [id.toString()],
    );
    return rows.length ? { tx: BigInt(rows[0].tx_id), id: BigInt(rows[0].id) } : null;
  }

  /** Replay: events in (after, upTo] that the user may see and asked for, in delivery order. */
  async readRange(
    user: AuthenticatedUser,
    filter: StreamFilter,
    after: EventPosition,
    upTo: EventPosition,
    limit: number,
  ): Promise<LoggedEvent[]> {
    const p = new SqlParams();
    const from = `(tx_id, id) > (${p.add(after.tx.toString())}::text::xid8, ${p.add(after.id.toString())}::bigint)`;
    const to = `(tx_id, id) <= (${p.add(upTo.tx.toString())}::text::xid8, ${p.add(upTo.id.toString())}::bigint)`;
    const visible = visibilitySql(user, filter, p);
    const rows: EventRow[] = await this.db.tx.query(
      `SELECT ${COLUMNS} FROM events WHERE ${from} AND ${to} AND ${visible} ORDER BY events.tx_id, events.id LIMIT ${p.add(limit)}`,
      p.values,
    );
    return rows.map(toEvent);
  }

  /**
   * One job's newest `limit` events, newest first (the caller reverses them): served from the partial index on
   * job_id, so a job's timeline costs the same however large the log is.
   */
  async newestOfJob(jobId: string, limit: number): Promise<LoggedEvent[]> {
    const rows: EventRow[] = await this.db.tx.query(
      `SELECT ${COLUMNS} FROM events WHERE job_id = $1 ORDER BY events.tx_id DESC, events.id DESC LIMIT $2`,
      [jobId, limit],
    );
    return rows.map(toEvent);
  }

  /** Deletes the events created before `cutoff`: how many, and the highest id among them (null: none). */
  async deleteOlderThan(cutoff: Date): Promise<{ deleted: number; maxId: bigint | null }> {
    const [row] = await this.db.tx.query<{ n: number; max_id: string | null }[]>(
      `WITH d AS (DELETE FROM events WHERE created_at < $1 RETURNING id) SELECT count(*)::int AS n, max(id)::text AS max_id FROM d`,
      [cutoff],
    );
    return { deleted: row.n, maxId: row.max_id === null ? null : BigInt(row.max_id) };
  }

  /** The smallest id still kept (null: the log is empty). */
  async minId(): Promise<bigint | null> {
    const [row] = await this.db.tx.query<{ id: string | null }[]>(`SELECT min(id)::text AS id FROM events`);
    return row.id === null ? null : BigInt(row.id);
  }
}
