import { Injectable } from '@nestjs/common';
import type { WritePart } from '../database/combined-write';
import { entityRows } from '../database/entity-rows';
import { Db } from '../database/transaction-host';
import { Quota } from './quota.entity';

/** The quotas module's own tables: `quotas` and `quota_thresholds`. */
@Injectable()
export class QuotasRepository {
  constructor(private readonly db: Db) {}

  active(): Promise<Quota[]> {
    return this.db.tx.getRepository(Quota).find({ where: { isActive: true }, order: { createdAt: 'ASC' } });
  }

  /** Every quota, or those a lead manages: user quotas of its org's members and its org's own. */
  async list(orgId?: string): Promise<Quota[]> {
    if (orgId === undefined) return this.db.tx.getRepository(Quota).find({ order: { createdAt: 'ASC', id: 'ASC' } });
    const rows = entityRows(this.db.tx, Quota);
    const found = await this.db.tx.query<Record<string, unknown>[]>(
      `SELECT ${rows.select} FROM quotas q
        WHERE (q.scope = 'org' AND q.scope_id = $1::text)
           OR (q.scope = 'user' AND EXISTS (SELECT 1 FROM users u WHERE u.id::text = q.scope_id AND u.org_id = $1::uuid))
        ORDER BY q.created_at, q.id`,
      [orgId],
    );
    return found.map((r) => rows.toEntity(r));
  }

  find(id: string): Promise<Quota | null> {
    return this.db.tx.getRepository(Quota).findOneBy({ id });
  }

  save(quota: Partial<Quota>): Promise<Quota> {
    return this.db.tx.getRepository(Quota).save(quota);
  }

  async remove(id: string): Promise<void> {
    await this.db.tx.getRepository(Quota).delete({ id });
  }

  /** Records the 80 % notices a submit sends, as its part of the submit's statement. */
  thresholdPart(marks: { quota_id: string; subject_id: string; window_start: Date }[]): WritePart {
    return {
      sql: `INSERT INTO quota_thresholds (quota_id, subject_id, window_start)
            SELECT quota_id, subject_id, window_start
              FROM jsonb_to_recordset($1::jsonb) AS m(quota_id uuid, subject_id text, window_start timestamptz)
            ON CONFLICT DO NOTHING RETURNING quota_id`,
      params: [JSON.stringify(marks)],
    };
  }
}
