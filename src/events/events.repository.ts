import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AuthenticatedUser } from '../auth';
import { SqlParams, StreamFilter, visibilitySql } from './event-visibility';
import { EventPosition, LoggedEvent, NewEvent } from './events.types';

/** The channel whose notifications carry only a new event's id: a wake-up, never the payload. */
export const EVENTS_CHANNEL = 'simpletuner_events';

const COLUMNS = `id::text AS id, tx_id::text AS tx_id, type, job_id, user_id::text AS user_id, org_id::text AS org_id, data, created_at`;

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

/** SPEC §9's flat payload: `{type, job_id, ...fields}`; the two reserved keys cannot be overridden. */
export function flatPayload(event: NewEvent): Record<string, unknown> {
  const { type: _t, job_id: _j, ...fields } = event.data ?? {};
  return { type: event.type, ...(event.jobId ? { job_id: event.jobId } : {}), ...fields };
}

/** The only place that writes SQL for the event log. */
@Injectable()
export class EventsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Inserts in the caller's transaction. With `notify`, pg_notify in the same statement: PostgreSQL delivers
   * the notification only if and when that transaction commits.
   */
  async insert(manager: EntityManager, events: NewEvent[], notify: boolean): Promise<LoggedEvent[]> {
    if (events.length === 0) return [];
    const records = events.map((e) => ({
      type: e.type,
      job_id: e.jobId ?? null,
      user_id: e.userId ?? null,
      org_id: e.orgId ?? null,
      data: flatPayload(e),
    }));
    const rows: EventRow[] = await manager.query(
      `WITH ins AS (
         INSERT INTO events (type, job_id, user_id, org_id, data)
         SELECT type, job_id, user_id, org_id, data
           FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (type text, job_id text, user_id uuid, org_id uuid, data jsonb))
                WITH ORDINALITY AS r(type, job_id, user_id, org_id, data, n)
          ORDER BY n
         RETURNING ${COLUMNS})
       SELECT ins.*${notify ? `, pg_notify('${EVENTS_CHANNEL}', ins.id)` : ''} FROM ins ORDER BY ins.id::bigint`,
      [JSON.stringify(records)],
    );
    return rows.map(toEvent);
  }

  /**
   * The next rows after `after` in delivery order. `safe` is false for a row whose transaction is not yet older
   * than every running transaction: it must wait, or an older transaction could still commit a row before it.
   */
  async readAfter(after: EventPosition, limit: number): Promise<Array<LoggedEvent & { safe: boolean }>> {
    const rows: EventRow[] = await this.db.query(
      `SELECT ${COLUMNS}, tx_id < pg_snapshot_xmin(pg_current_snapshot()) AS safe
         FROM events WHERE (tx_id, id) > ($1::text::xid8, $2::bigint)
        ORDER BY tx_id, id LIMIT $3`,
      [after.tx.toString(), after.id.toString(), limit],
    );
    return rows.map((r) => ({ ...toEvent(r), safe: r.safe === true }));
  }

  /** The last position every instance may already have delivered: where a live-only stream starts. */
  async safeHead(): Promise<EventPosition | null> {
    const rows: EventRow[] = await this.db.query(
      `SELECT id::text AS id, tx_id::text AS tx_id FROM events
        WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY tx_id DESC, id DESC LIMIT 1`,
    );
    return rows.length ? { tx: BigInt(rows[0].tx_id), id: BigInt(rows[0].id) } : null;
  }

  async findPosition(id: bigint): Promise<EventPosition | null> {
    const rows: EventRow[] = await this.db.query(`SELECT id::text AS id, tx_id::text AS tx_id FROM events WHERE id = $1`, [
      id.toString(),
    ]);
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
    const rows: EventRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM events WHERE ${from} AND ${to} AND ${visible} ORDER BY tx_id, id LIMIT ${p.add(limit)}`,
      p.values,
    );
    return rows.map(toEvent);
  }

  async deleteOlderThan(cutoff: Date): Promise<number> {
    const [, count] = (await this.db.query(`DELETE FROM events WHERE created_at < $1`, [cutoff])) as [unknown, number];
    return count ?? 0;
  }
}
