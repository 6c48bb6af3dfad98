import { Injectable } from '@nestjs/common';
import { affectedRows, Db } from '../database/transaction-host';

export interface AuditRow {
  id: string;
  at: Date;
  actor_id: string | null;
  actor_name: string | null;
  actor_key_id: string | null;
  org_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  before: unknown;
  after: unknown;
  correlation_id: string | null;
  client_ip: string | null;
}

export interface AuditFilter {
  orgId?: string;
  action?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
}

/** The `audit_log` table: rows are inserted and pruned by age, never updated. */
@Injectable()
export class AuditRepository {
  constructor(private readonly db: Db) {}

  async insert(rows: Omit<AuditRow, 'id' | 'at'>[]): Promise<void> {
    await this.db.tx.query(
      `INSERT INTO audit_log (actor_id, actor_name, actor_key_id, org_id, action, target_type, target_id, before, after, correlation_id, client_ip)
       SELECT v.actor_id, v.actor_name, v.actor_key_id, v.org_id, v.action, v.target_type, v.target_id, v.before,
              v.after, v.correlation_id, v.client_ip
         FROM jsonb_to_recordset($1::jsonb) AS v(actor_id uuid, actor_name text, actor_key_id uuid, org_id uuid,
              action text, target_type text, target_id text, before jsonb, after jsonb, correlation_id text,
              client_ip text)`,
      [JSON.stringify(rows.map((r) => ({ ...r, before: r.before ?? null, after: r.after ?? null })))],
    );
  }

  /** Newest first, with the total matching (one statement: a window count). */
  async list(filter: AuditFilter, limit: number, offset: number): Promise<{ rows: AuditRow[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (filter.orgId !== undefined) add('org_id = ?::uuid', filter.orgId);
    if (filter.action !== undefined) add('action = ?', filter.action);
    if (filter.actorId !== undefined) add('actor_id = ?::uuid', filter.actorId);
    if (filter.targetType !== undefined) add('target_type = ?', filter.targetType);
    if (filter.targetId !== undefined) add('target_id = ?', filter.targetId);
    if (filter.since !== undefined) add('at >= ?', filter.since);
    if (filter.until !== undefined) add('at < ?', filter.until);
    params.push(limit, offset);
    const rows = await this.db.tx.query<(AuditRow & { total: string })[]>(
      `SELECT id::text AS id, at, actor_id, actor_name, actor_key_id, org_id, action, target_type, target_id,
              before, after, correlation_id, client_ip, count(*) OVER () AS total
         FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY audit_log.at DESC, audit_log.id DESC
        LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    if (rows.length > 0 || offset === 0) return { rows, total: rows.length > 0 ? Number(rows[0].total) : 0 };
    // Paged past the end: the window count saw no row to ride on.
    const [{ n }] = await this.db.tx.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
      params.slice(0, -2),
    );
    return { rows, total: n };
  }

  async deleteOlderThan(cutoff: Date): Promise<number> {
    return affectedRows(await this.db.tx.query(`DELETE FROM audit_log WHERE at < $1`, [cutoff]));
  }
}
