import { Injectable } from '@nestjs/common';
import type { WritePart } from '../database/combined-write';
import { Db } from '../database/transaction-host';
import type { SealedValue } from '../secrets';

/** The `job_secrets` table: a job's sealed secret values, one row per name, until the job ends. */
@Injectable()
export class JobSecretsRepository {
  constructor(private readonly db: Db) {}

  /** The submitted job's sealed values, as its part of the submit's statement. */
  insertPart(jobId: string, values: { name: string; value: SealedValue }[]): WritePart {
    return {
      sql: `INSERT INTO job_secrets (job_id, name, sealed, key_id)
            SELECT $1, v.name, v.sealed, v.key_id
              FROM jsonb_to_recordset($2::jsonb) AS v(name text, sealed text, key_id text)
            RETURNING name`,
      params: [
        jobId,
        JSON.stringify(values.map((v) => ({ name: v.name, sealed: v.value.sealed, key_id: v.value.keyId }))),
      ],
    };
  }

  async read(jobId: string): Promise<{ name: string; value: SealedValue }[]> {
    const rows = await this.db.tx.query<{ name: string; sealed: string; key_id: string }[]>(
      `SELECT name, sealed, key_id FROM job_secrets WHERE job_id = $1`,
      [jobId],
    );
    return rows.map((r) => ({ name: r.name, value: { sealed: r.sealed, keyId: r.key_id } }));
  }

  async deleteFor(jobIds: string[]): Promise<void> {
    await this.db.tx.query(`DELETE FROM job_secrets WHERE job_id = ANY($1::uuid[])`, [jobIds]);
  }
}
