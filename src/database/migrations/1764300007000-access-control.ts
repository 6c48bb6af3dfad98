import { MigrationInterface, QueryRunner } from 'typeorm';

export class AccessControl1764300007000 implements MigrationInterface {
  name = 'AccessControl1764300007000';

  async up(q: QueryRunner): Promise<void> {
    // Who created an account or minted a key: an approval decision from the requester's own creations is refused.
    await q.query(`ALTER TABLE users ADD COLUMN created_by uuid`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN created_by uuid`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN created_by_key uuid`);
    // Every change to users, keys, rules, decisions, limits and provider settings; never updated or deleted by
    // the API, pruned by age.
    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor_id uuid,
        actor_name text,
        actor_key_id uuid,
        org_id uuid,
        action text NOT NULL,
        target_type text NOT NULL,
        target_id text,
        before jsonb,
        after jsonb,
        correlation_id text
      )`);
    await q.query(`CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_log_org_at_idx ON audit_log (org_id, at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN created_by_key`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN created_by`);
    await q.query(`ALTER TABLE users DROP COLUMN created_by`);
  }
}
