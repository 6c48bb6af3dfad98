import { MigrationInterface, QueryRunner } from 'typeorm';

export class Jobs1764300003000 implements MigrationInterface {
  name = 'Jobs1764300003000';

  async up(q: QueryRunner): Promise<void> {
    await this.jobs(q);
    await this.keysConfigsAndDeliveries(q);
  }

  private async jobs(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE jobs (
        job_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        org_id uuid NOT NULL REFERENCES orgs(id),
        provider text NOT NULL,
        external_id text,
        status text NOT NULL CHECK (status IN ('pending','uploading','queued','running','completed','failed','cancelled')),
        config_name text NOT NULL,
        config jsonb NOT NULL DEFAULT '{}'::jsonb,
        hardware_profile text NOT NULL,
        priority int NOT NULL CHECK (priority BETWEEN 0 AND 50),
        priority_override int CHECK (priority_override BETWEEN 0 AND 50),
        requires_approval boolean NOT NULL DEFAULT false,
        approval_id uuid,
        cost_estimate numeric NOT NULL DEFAULT 0,
        cost_usd numeric,
        error_message text,
        output_url text,
        logs_url text,
        correlation_id text NOT NULL,
        attempt int NOT NULL DEFAULT 0,
        max_attempts int NOT NULL DEFAULT 3,
        max_runtime_seconds int NOT NULL DEFAULT 86400,
        idempotency_key text,
        request_hash text,
        cancel_requested_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        queued_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        completed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    // Polling reads every active job each tick: keep that an index scan however many finished jobs pile up.
    await q.query(
      `CREATE INDEX jobs_active_idx ON jobs (provider, created_at) WHERE status IN ('pending','uploading','queued','running')`,
    );
    await q.query(`CREATE INDEX jobs_user_created_idx ON jobs (user_id, created_at DESC)`);
    await q.query(`CREATE INDEX jobs_org_created_idx ON jobs (org_id, created_at DESC)`);
    await q.query(
      `CREATE UNIQUE INDEX jobs_provider_external_id_key ON jobs (provider, external_id) WHERE external_id IS NOT NULL`,
    );
    // Cost estimates: mean duration of an org's completed jobs on a profile.
    await q.query(
      `CREATE INDEX jobs_completed_profile_idx ON jobs (org_id, hardware_profile, completed_at) WHERE status = 'completed'`,
    );
  }

  private async keysConfigsAndDeliveries(q: QueryRunner): Promise<void> {
    // One row per (user, key) for 24 h: the unique key makes two concurrent submits with one key create one job.
    await q.query(`
      CREATE TABLE job_idempotency_keys (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        idempotency_key text NOT NULL,
        job_id uuid NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
        request_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, idempotency_key)
      )`);

    await q.query(`
      CREATE TABLE provider_configs (
        name text PRIMARY KEY,
        webhook_url text,
        webhook_secret text,
        version_override text,
        hardware_info jsonb NOT NULL DEFAULT '{}'::jsonb,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    // Standard-Webhooks replay protection: a webhook-id seen in the last 24 h is acknowledged, not applied.
    await q.query(`
      CREATE TABLE webhook_deliveries (
        webhook_id text PRIMARY KEY,
        provider text NOT NULL,
        external_id text,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_received_idx ON webhook_deliveries (received_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE provider_configs`);
    await q.query(`DROP TABLE job_idempotency_keys`);
    await q.query(`DROP TABLE jobs`);
  }
}
