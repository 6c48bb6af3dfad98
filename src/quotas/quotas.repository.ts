import { Injectable } from '@nestjs/common';
import { advisoryKey } from '../database/advisory-lock';
import { entityRows } from '../database/entity-rows';
import { Db } from '../database/transaction-host';
import { Quota } from './quota.entity';
import type { Subject } from './quota-rules';

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
        WHERE (q.scope = 'org' AND q.scope_id = $1)
           OR (q.scope = 'user' AND EXISTS (SELECT 1 FROM users u WHERE u.id::text = q.scope_id AND u.org_id = $1))
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

  /**
   * Serialises the submits of these subjects until the transaction ends, taking the locks in the order given (the
   * caller's fixed order): one statement, the locks taken one after the other as the array is read.
   */
  async lockSubjects(subjects: Subject[]): Promise<void> {
    if (!this.db.tx.queryRunner?.isTransactionActive) throw new Error('lockSubjects needs an open transaction');
    const keys = subjects.map((s) => advisoryKey(`quota:${s.kind}:${s.id}`));
    await this.db.tx.query(
      `SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) WITH ORDINALITY AS t(k, i)`,
      [keys],
    );
  }

  /** Records that a subject passed 80 % of a quota in a window; false when it was recorded before. */
  async markThreshold(quotaId: string, subjectId: string, windowStart: Date): Promise<boolean> {
    const rows = await this.db.tx.query<unknown[]>(
      `INSERT INTO quota_thresholds (quota_id, subject_id, window_start) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING quota_id`,
      [quotaId, subjectId, windowStart],
    );
    return rows.length > 0;
  }
}
