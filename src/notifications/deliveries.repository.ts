import { Injectable } from '@nestjs/common';
import { affectedRows, Db, returnedRows } from '../database/transaction-host';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveryRow {
  id: string;
  channel_id: string;
  event_id: string | null;
  type: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  duration_ms: number | null;
  response_excerpt: string | null;
  next_attempt_at: Date;
  created_at: Date;
  delivered_at: Date | null;
}

export interface AttemptRow {
  attempt: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_excerpt: string | null;
  created_at: Date;
}

export interface NewDelivery {
  channel_id: string;
  event_id: string | null;
  type: string;
  payload: DeliveryRow['payload'];
}

/** One attempt's result and the state the delivery moves to. */
export interface AttemptRecord {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  excerpt: string | null;
  status: DeliveryStatus;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
}

export interface DeliveryFilter {
  channelId?: string;
  status?: DeliveryStatus;
  /** Only deliveries of channels an organisation's or a user's list shows. */
  orgId?: string;
  userId?: string;
}

const COLUMNS = `d.id, d.channel_id, d.event_id::text AS event_id, d.type, d.payload, d.status, d.attempts,
  d.last_status_code, d.last_error, d.duration_ms, d.response_excerpt, d.next_attempt_at, d.created_at, d.delivered_at`;

/** The notifications module's deliveries, their attempts, and the outbox cursor. */
@Injectable()
export class DeliveriesRepository {
  constructor(private readonly db: Db) {}

  /** The outbox's position, locked for the rest of the caller's transaction (one expander at a time). */
  async lockCursor(): Promise<string | null> {
    const [row] = await this.db.tx.query<{ position: string | null }[]>(
      `SELECT position FROM notification_cursor WHERE id = 1 FOR UPDATE`,
    );
    return row?.position ?? null;
  }

  async saveCursor(position: string): Promise<void> {
    await this.db.tx.query(`UPDATE notification_cursor SET position = $1, updated_at = now() WHERE id = 1`, [position]);
  }

  /** Inserts the deliveries not made yet (one per event and channel); how many were new. */
  async insertMany(rows: NewDelivery[]): Promise<number> {
    if (rows.length === 0) return 0;
    const inserted = await this.db.tx.query<{ id: string }[]>(
      `INSERT INTO notification_deliveries (channel_id, event_id, type, payload)
       SELECT channel_id, event_id, type, payload
         FROM jsonb_to_recordset($1::jsonb) AS r(channel_id uuid, event_id bigint, type text, payload jsonb)
       ON CONFLICT (event_id, channel_id) DO NOTHING RETURNING id`,
      [JSON.stringify(rows)],
    );
    return inserted.length;
  }

  async insertOne(row: NewDelivery, now: Date): Promise<DeliveryRow> {
    const [created] = await this.db.tx.query<DeliveryRow[]>(
      `INSERT INTO notification_deliveries AS d (channel_id, event_id, type, payload, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [row.channel_id, row.event_id, row.type, JSON.stringify(row.payload), now],
    );
    return created;
  }

  /**
   * Claims up to `limit` pending deliveries due by `dueBy` for `sender`: their next attempt moves to `leaseUntil`, so
   * no other sender takes them meanwhile, and one whose sender dies becomes due again then, or as soon as another
   * sender takes the outbox over (releaseClaimsOfOthers): sent at least once.
   */
  async claimDue(dueBy: Date, leaseUntil: Date, limit: number, sender: string): Promise<DeliveryRow[]> {
    const result: unknown = await this.db.tx.query(
      `UPDATE notification_deliveries d SET next_attempt_at = $2, claimed_by = $4
        WHERE d.id IN (SELECT id FROM notification_deliveries
                        WHERE status = 'pending' AND next_attempt_at <= $1
                          AND EXISTS (SELECT 1 FROM notification_channels c WHERE c.id = channel_id AND c.is_active)
                        ORDER BY next_attempt_at, created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}`,
      [dueBy, leaseUntil, limit, sender],
    );
    return returnedRows<DeliveryRow>(result).sort((a, b) => +new Date(a.created_at) - +new Date(b.created_at));
  }

  /**
   * Makes the deliveries other senders claimed due now: the outbox has one sender at a time, so a claim that is not
   * this sender's belongs to one that stopped (or lost the outbox); how many.
   */
  async releaseClaimsOfOthers(sender: string): Promise<number> {
    const result: unknown = await this.db.tx.query(
      `UPDATE notification_deliveries SET next_attempt_at = now(), claimed_by = NULL
        WHERE claimed_by IS NOT NULL AND claimed_by <> $1 AND status = 'pending'`,
      [sender],
    );
    return affectedRows(result);
  }

  /** Records an attempt and the delivery's new state in one statement. */
  async recordAttempt(id: string, r: AttemptRecord): Promise<DeliveryRow | null> {
    const [row] = await this.db.tx.query<DeliveryRow[]>(
      `WITH d AS (
         UPDATE notification_deliveries d SET attempts = attempts + 1, status = $2, last_status_code = $3, claimed_by = NULL,
                last_error = $4, duration_ms = $5, response_excerpt = $6, next_attempt_at = $7,
                delivered_at = COALESCE($8, delivered_at)
          WHERE id = $1 RETURNING ${COLUMNS}),
       a AS (INSERT INTO notification_attempts (delivery_id, attempt, status_code, duration_ms, error, response_excerpt)
             SELECT id, attempts, $3, $5, $4, $6 FROM d)
       SELECT * FROM d`,
      [id, r.status, r.statusCode, r.error, Math.round(r.durationMs), r.excerpt, r.nextAttemptAt, r.deliveredAt],
    );
    return row ?? null;
  }

  /** Records a round's attempts in one statement: each delivery's new state and its attempt row. */
  async recordAttempts(records: { id: string; record: AttemptRecord }[]): Promise<void> {
    if (records.length === 0) return;
    const rows = records.map(({ id, record: r }) => ({
      id,
      status: r.status,
      status_code: r.statusCode,
      error: r.error,
      duration_ms: Math.round(r.durationMs),
      excerpt: r.excerpt,
      next_attempt_at: r.nextAttemptAt.toISOString(),
      delivered_at: r.deliveredAt?.toISOString() ?? null,
    }));
    await this.db.tx.query(
      `WITH r AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, status text, status_code int, error text,
                duration_ms int, excerpt text, next_attempt_at timestamptz, delivered_at timestamptz)),
       d AS (
         UPDATE notification_deliveries d SET attempts = d.attempts + 1, status = r.status, claimed_by = NULL,
                last_status_code = r.status_code, last_error = r.error, duration_ms = r.duration_ms,
                response_excerpt = r.excerpt, next_attempt_at = r.next_attempt_at,
                delivered_at = COALESCE(r.delivered_at, d.delivered_at)
           FROM r WHERE d.id = r.id
         RETURNING d.id, d.attempts, r.status_code, r.duration_ms, r.error, r.excerpt)
       INSERT INTO notification_attempts (delivery_id, attempt, status_code, duration_ms, error, response_excerpt)
       SELECT id, attempts, status_code, duration_ms, error, excerpt FROM d`,
      [JSON.stringify(rows)],
    );
  }

  /** Whether the channel's last `n` finished deliveries all failed (and there are `n`). */
  async lastAllFailed(channelId: string, n: number): Promise<boolean> {
    const [row] = await this.db.tx.query<{ total: number; failed: number }[]>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'failed')::int AS failed
         FROM (SELECT status FROM notification_deliveries WHERE channel_id = $1 AND status <> 'pending'
                ORDER BY created_at DESC LIMIT $2) last`,
      [channelId, n],
    );
    return row.total === n && row.failed === n;
  }

  async find(id: string): Promise<DeliveryRow | null> {
    const [row] = await this.db.tx.query<DeliveryRow[]>(
      `SELECT ${COLUMNS} FROM notification_deliveries d WHERE d.id = $1`,
      [id],
    );
    return row ?? null;
  }

  async list(filter: DeliveryFilter, limit: number, offset: number): Promise<{ rows: DeliveryRow[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.channelId) add('d.channel_id = ?', filter.channelId);
    if (filter.status) add('d.status = ?', filter.status);
    if (filter.orgId) add('c.org_id = ?', filter.orgId);
    if (filter.userId) add('c.user_id = ?', filter.userId);
    const from = `FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const [rows, [count]] = await Promise.all([
      this.db.tx.query<DeliveryRow[]>(
        `SELECT ${COLUMNS} ${from} ORDER BY d.created_at DESC, d.id LIMIT ${limit} OFFSET ${offset}`,
        params,
      ),
      this.db.tx.query<{ n: number }[]>(`SELECT count(*)::int AS n ${from}`, params),
    ]);
    return { rows, total: count.n };
  }

  attemptsOf(ids: string[]): Promise<(AttemptRow & { delivery_id: string })[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.tx.query(
      `SELECT delivery_id, attempt, status_code, duration_ms, error, response_excerpt, created_at
         FROM notification_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt`,
      [ids],
    );
  }
}
