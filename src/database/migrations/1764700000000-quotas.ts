import { MigrationInterface, QueryRunner } from 'typeorm';

export class Quotas1764700000000 implements MigrationInterface {
  name = 'Quotas1764700000000';

  async up(q: QueryRunner): Promise<void> {
    // Spend and submission limits. scope_id names the org (uuid), level, user (uuid) or provider the quota is about,
    // as text; null for a global quota. admin_set: last created or changed by an admin (a lead may only lower it).
    await q.query(`
      CREATE TABLE quotas (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        scope text NOT NULL CHECK (scope IN ('global', 'org', 'level', 'user', 'provider')),
        scope_id text,
        type text NOT NULL CHECK (type IN ('cost_daily', 'cost_monthly', 'jobs_per_hour', 'jobs_per_day', 'concurrent_jobs')),
        "limit" numeric NOT NULL CHECK ("limit" > 0),
        action text NOT NULL CHECK (action IN ('block', 'warn', 'require_approval')),
        is_active boolean NOT NULL DEFAULT true,
        admin_set boolean NOT NULL DEFAULT false,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT quotas_scope_id_check CHECK ((scope = 'global') = (scope_id IS NULL))
      )`);
    // The 80 % notice of a cost quota goes out once per quota, subject (user, org or provider) and window.
    await q.query(`
      CREATE TABLE quota_thresholds (
        quota_id uuid NOT NULL REFERENCES quotas(id) ON DELETE CASCADE,
        subject_id text NOT NULL,
        window_start timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (quota_id, subject_id, window_start)
      )`);
    // A submit far from its limits writes in one message under its locks, guarded by this: when the usage read
    // under the locks no longer matches what the submit decided from (an unlocked read), the whole message rolls
    // back (SQLSTATE QU001) and the submit decides again under the locks.
    await q.query(`
      CREATE FUNCTION quota_guard(ok boolean) RETURNS boolean LANGUAGE plpgsql AS $$
      BEGIN
        IF ok IS NOT TRUE THEN
          RAISE EXCEPTION 'quota usage changed since it was read' USING ERRCODE = 'QU001';
        END IF;
        RETURN true;
      END $$`);
    // The quota check at submit sums a window of one user's, org's or provider's jobs: these read the window's rows
    // from the index alone (no visit to the table), so the check stays a short range scan however many jobs exist.
    const spend = 'INCLUDE (cost_usd, cost_estimate, status, external_id)';
    await q.query(`CREATE INDEX jobs_user_spend_idx ON jobs (user_id, created_at) ${spend}`);
    await q.query(`CREATE INDEX jobs_org_spend_idx ON jobs (org_id, created_at) ${spend}`);
    await q.query(`CREATE INDEX jobs_provider_spend_idx ON jobs (provider, created_at) ${spend}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jobs_provider_spend_idx`);
    await q.query(`DROP INDEX jobs_org_spend_idx`);
    await q.query(`DROP INDEX jobs_user_spend_idx`);
    await q.query(`DROP FUNCTION quota_guard(boolean)`);
    await q.query(`DROP TABLE quota_thresholds`);
    await q.query(`DROP TABLE quotas`);
  }
}
