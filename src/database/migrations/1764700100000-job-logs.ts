import { MigrationInterface, QueryRunner } from 'typeorm';

export class JobLogs1764700100000 implements MigrationInterface {
  name = 'JobLogs1764700100000';

  async up(q: QueryRunner): Promise<void> {
    // One row per job with a stored log: how far into the provider's log it has read (bytes of the log as the
    // provider wrote it) and how much it keeps (bytes of the redacted text). Appends lock this row, so a job's
    // chunks commit in offset order.
    await q.query(`
      CREATE TABLE job_logs (
        job_id uuid PRIMARY KEY REFERENCES jobs(job_id) ON DELETE CASCADE,
        consumed_bytes bigint NOT NULL DEFAULT 0,
        stored_bytes bigint NOT NULL DEFAULT 0,
        head_bytes bigint NOT NULL DEFAULT 0,
        head_closed boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The redacted text of provider bytes [start_offset, end_offset). `head` chunks (the start of the log) are never
    // trimmed; the oldest others go when the job's log outgrows its budget, leaving a gap between offsets.
    await q.query(`
      CREATE TABLE job_log_chunks (
        job_id uuid NOT NULL REFERENCES job_logs(job_id) ON DELETE CASCADE,
        start_offset bigint NOT NULL,
        end_offset bigint NOT NULL,
        bytes int NOT NULL,
        exact boolean NOT NULL,
        head boolean NOT NULL,
        text text NOT NULL,
        PRIMARY KEY (job_id, start_offset),
        CHECK (end_offset > start_offset)
      )`);
    // Who streams which job's log, per instance, renewed while the streams stay open: the follow task fetches
    // the jobs that have a fresh row. No foreign key: a stream may outlive its job's deletion (the follow task
    // reads the jobs and skips what is gone), and a stale row goes with its heartbeat.
    await q.query(`
      CREATE TABLE followed_jobs (
        job_id uuid NOT NULL,
        instance_id text NOT NULL,
        watchers int NOT NULL,
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job_id, instance_id)
      )`);
    await q.query(`CREATE INDEX followed_jobs_instance_idx ON followed_jobs (instance_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE followed_jobs`);
    await q.query(`DROP TABLE job_log_chunks`);
    await q.query(`DROP TABLE job_logs`);
  }
}
