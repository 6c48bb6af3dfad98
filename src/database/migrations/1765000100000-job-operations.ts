import { MigrationInterface, QueryRunner } from 'typeorm';

export class JobOperations1765000100000 implements MigrationInterface {
  name = 'JobOperations1765000100000';

  async up(q: QueryRunner): Promise<void> {
    // A paused scope dispatches nothing: the whole service (`global`, scope_id null), a provider, or an org. The
    // claim reads this (small) table once per claim statement; one row per scope.
    await q.query(`
      CREATE TABLE dispatch_pauses (
        id uuid PRIMARY KEY,
        scope text NOT NULL CHECK (scope IN ('global', 'provider', 'org')),
        scope_id text,
        reason text NOT NULL,
        paused_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((scope = 'global') = (scope_id IS NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX dispatch_pauses_scope_key ON dispatch_pauses (scope, COALESCE(scope_id, ''))`);
    // What a submit asked for: not dispatched before start_after; cancelled when not dispatched within
    // max_wait_seconds of its submit.
    await q.query(`ALTER TABLE jobs ADD COLUMN start_after timestamptz, ADD COLUMN max_wait_seconds int`);
    // The queue's copy: a scheduled entry waits `blocked` (reason `scheduled`) until not_before; wait_deadline is
    // when a still-waiting entry's job is cancelled. Partial indexes: the tick reads only the due rows.
    await q.query(`ALTER TABLE queue_entries ADD COLUMN wait_deadline timestamptz`);
    await q.query(
      `CREATE INDEX queue_entries_scheduled_idx ON queue_entries (not_before)
        WHERE status = 'blocked' AND blocked_reason = 'scheduled'`,
    );
    await q.query(
      `CREATE INDEX queue_entries_wait_deadline_idx ON queue_entries (wait_deadline)
        WHERE wait_deadline IS NOT NULL AND status IN ('pending', 'blocked')`,
    );
    // Retention reads the oldest finished jobs first; deleting a job cascades to the rows that reference it, and
    // these two referencing tables had no index on job_id for that (each deleted job scanned them whole).
    await q.query(
      `CREATE INDEX jobs_finished_idx ON jobs (completed_at) WHERE status IN ('completed', 'failed', 'cancelled')`,
    );
    await q.query(`CREATE INDEX approval_requests_job_idx ON approval_requests (job_id)`);
    await q.query(`CREATE INDEX job_idempotency_keys_job_idx ON job_idempotency_keys (job_id)`);
    // A run in progress (scheduled or asked for over the API): another instance's run-now answers 409 meanwhile.
    await q.query(`ALTER TABLE task_leases ADD COLUMN running_since timestamptz, ADD COLUMN running_holder text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE task_leases DROP COLUMN running_holder, DROP COLUMN running_since`);
    await q.query(`DROP INDEX job_idempotency_keys_job_idx`);
    await q.query(`DROP INDEX approval_requests_job_idx`);
    await q.query(`DROP INDEX jobs_finished_idx`);
    await q.query(`DROP INDEX queue_entries_wait_deadline_idx`);
    await q.query(`DROP INDEX queue_entries_scheduled_idx`);
    await q.query(`ALTER TABLE queue_entries DROP COLUMN wait_deadline`);
    await q.query(`ALTER TABLE jobs DROP COLUMN max_wait_seconds, DROP COLUMN start_after`);
    await q.query(`DROP TABLE dispatch_pauses`);
  }
}
