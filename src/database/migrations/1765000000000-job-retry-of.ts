import { MigrationInterface, QueryRunner } from 'typeorm';

export class JobRetryOf1765000000000 implements MigrationInterface {
  name = 'JobRetryOf1765000000000';

  async up(q: QueryRunner): Promise<void> {
    // A retry is a new job that names the job it retries. Deleting the old job (DELETE, retention) leaves the retry
    // standing with the link cleared; the partial index serves both that and the old job's `retried_by`.
    await q.query(
      `ALTER TABLE jobs ADD COLUMN retry_of uuid
         CONSTRAINT jobs_retry_of_fkey REFERENCES jobs (job_id) ON DELETE SET NULL`,
    );
    await q.query(`CREATE INDEX jobs_retry_of_idx ON jobs (retry_of, created_at) WHERE retry_of IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jobs_retry_of_idx`);
    await q.query(`ALTER TABLE jobs DROP COLUMN retry_of`);
  }
}
