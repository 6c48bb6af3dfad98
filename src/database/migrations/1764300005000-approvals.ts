import { MigrationInterface, QueryRunner } from 'typeorm';

/** Approval rules (with the defaults High Cost Jobs and First Job Review) and the requests that gate the queue. */
export class Approvals1764300005000 implements MigrationInterface {
  name = 'Approvals1764300005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE approval_rules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        description text,
        condition text NOT NULL CHECK (condition IN
          ('cost_exceeds', 'first_job', 'hardware_type', 'provider', 'config_pattern', 'daily_jobs_exceed')),
        threshold text,
        is_active boolean NOT NULL DEFAULT true,
        priority integer NOT NULL DEFAULT 0,
        applies_to_provider text,
        exempt_levels text[] NOT NULL DEFAULT '{}',
        required_approver_level text NOT NULL DEFAULT 'lead'
          CHECK (required_approver_level IN ('researcher', 'lead', 'admin')),
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Submit reads the active rules in priority order on every job.
    await q.query(
      `CREATE INDEX approval_rules_active_idx ON approval_rules (priority DESC, created_at) WHERE is_active`,
    );
    await q.query(`
      INSERT INTO approval_rules (name, description, condition, threshold, priority, exempt_levels, required_approver_level)
      VALUES
        ('High Cost Jobs', 'Jobs estimated above $50 need a lead''s approval', 'cost_exceeds', '50.00', 100,
         '{admin}', 'lead'),
        ('First Job Review', 'A user''s first job is reviewed by a lead', 'first_job', NULL, 50,
         '{lead,admin}', 'lead')`);

    await q.query(`
      CREATE TABLE approval_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        job_id uuid NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        org_id uuid NOT NULL REFERENCES orgs(id),
        rule_id uuid REFERENCES approval_rules(id) ON DELETE SET NULL,
        rule_name text,
        required_approver_level text NOT NULL CHECK (required_approver_level IN ('researcher', 'lead', 'admin')),
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
        reason text NOT NULL,
        estimated_cost numeric(12, 4),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        reviewed_by uuid REFERENCES users(id) ON DELETE SET NULL,
        reviewed_at timestamptz,
        review_notes text
      )`);
    // The expiry tick scans pending requests by deadline; the list pages by org and status.
    await q.query(`CREATE INDEX approval_requests_due_idx ON approval_requests (expires_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX approval_requests_org_idx ON approval_requests (org_id, status, created_at DESC)`);
    await q.query(`CREATE INDEX approval_requests_user_idx ON approval_requests (user_id, created_at DESC)`);
    // A job waits on at most one open request.
    await q.query(
      `CREATE UNIQUE INDEX approval_requests_one_pending_idx ON approval_requests (job_id) WHERE status = 'pending'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE approval_requests`);
    await q.query(`DROP TABLE approval_rules`);
  }
}
