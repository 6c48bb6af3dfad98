import { MigrationInterface, QueryRunner } from 'typeorm';

export class Queue1764300004000 implements MigrationInterface {
  name = 'Queue1764300004000';

  async up(q: QueryRunner): Promise<void> {
    // One entry per job that goes through the queue. `effective_priority` is stored, and refreshed by the
    // tick only for rows whose `next_aging_at` has passed, so the dispatch order is always an index scan.
    await q.query(`
      CREATE TABLE queue_entries (
        job_id uuid PRIMARY KEY REFERENCES jobs(job_id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        org_id uuid NOT NULL,
        provider text NOT NULL,
        base_priority int NOT NULL CHECK (base_priority BETWEEN 0 AND 50),
        priority_override int CHECK (priority_override BETWEEN 0 AND 50),
        effective_priority int NOT NULL,
        status text NOT NULL CHECK (status IN ('pending','blocked','dispatching','running','completed','failed','cancelled')),
        blocked_reason text,
        queued_at timestamptz NOT NULL DEFAULT now(),
        pending_since timestamptz,
        next_aging_at timestamptz,
        not_before timestamptz,
        dispatched_at timestamptz,
        dispatch_token text,
        attempt int NOT NULL DEFAULT 0,
        max_attempts int NOT NULL DEFAULT 3,
        last_error text,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The claim reads each user's best pending entries (one index probe per user, whatever the depth).
    await q.query(`
      CREATE INDEX queue_entries_user_dispatch_idx
        ON queue_entries (user_id, effective_priority DESC, queued_at, job_id) WHERE status = 'pending'`);
    // Global dispatch order: positions and listings.
    await q.query(`
      CREATE INDEX queue_entries_dispatch_order_idx
        ON queue_entries (effective_priority DESC, queued_at, job_id) WHERE status = 'pending'`);
    await q.query(`
      CREATE INDEX queue_entries_aging_idx
        ON queue_entries (next_aging_at) WHERE status = 'pending' AND next_aging_at IS NOT NULL`);
    // Slots in use: counted under the claim lock every tick.
    await q.query(`
      CREATE INDEX queue_entries_active_idx
        ON queue_entries (user_id, org_id) WHERE status IN ('dispatching', 'running')`);
    await q.query(`
      CREATE INDEX queue_entries_dispatching_idx ON queue_entries (dispatched_at) WHERE status = 'dispatching'`);
    await q.query(`CREATE INDEX queue_entries_dispatched_at_idx ON queue_entries (dispatched_at)`);
    await q.query(`CREATE INDEX queue_entries_org_queued_idx ON queue_entries (org_id, queued_at DESC)`);
    await q.query(`CREATE INDEX queue_entries_user_queued_idx ON queue_entries (user_id, queued_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE queue_entries`);
  }
}
