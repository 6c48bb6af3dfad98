import { MigrationInterface, QueryRunner } from 'typeorm';

export class Artifacts1764600000000 implements MigrationInterface {
  name = 'Artifacts1764600000000';

  async up(q: QueryRunner): Promise<void> {
    // Every http(s) URL of the provider's output, recorded when the job completes.
    await q.query(`ALTER TABLE jobs ADD COLUMN output_urls jsonb`);
    // One row per output URL of a completed job: the durable copy queue and, once stored, the artifact itself. Its
    // files live in the artifact store under <job_id>/<artifact_id>; the rows go with their job.
    await q.query(`
      CREATE TABLE job_artifacts (
        artifact_id uuid PRIMARY KEY,
        job_id uuid NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        org_id uuid NOT NULL,
        provider text NOT NULL,
        correlation_id text NOT NULL,
        name text NOT NULL,
        position int NOT NULL,
        source_url text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'copying', 'stored', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        claim_id uuid,
        lease_until timestamptz,
        size bigint,
        sha256 text,
        content_type text,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        stored_at timestamptz,
        CONSTRAINT job_artifacts_job_name_key UNIQUE (job_id, name)
      )`);
    // The copy task's two reads: due pending rows, and copies whose holder stopped renewing its lease.
    await q.query(`CREATE INDEX job_artifacts_due_idx ON job_artifacts (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX job_artifacts_copying_idx ON job_artifacts (lease_until) WHERE status = 'copying'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE job_artifacts`);
    await q.query(`ALTER TABLE jobs DROP COLUMN output_urls`);
  }
}
