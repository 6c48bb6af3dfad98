import { MigrationInterface, QueryRunner } from 'typeorm';

export class Hardening1764400000000 implements MigrationInterface {
  name = 'Hardening1764400000000';

  async up(q: QueryRunner): Promise<void> {
    // The key a job was submitted with and who minted it: an approver must be independent of both.
    await q.query(`ALTER TABLE jobs ADD COLUMN submitted_key_id uuid`);
    await q.query(`ALTER TABLE jobs ADD COLUMN submitted_key_minted_by uuid`);
    // The approval rule walks account creation down as well as up.
    await q.query(`CREATE INDEX users_created_by_idx ON users (created_by) WHERE created_by IS NOT NULL`);
    // Usernames are unique within an organisation: a lead learns nothing about the names other organisations use.
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_username_key`);
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_org_username_key UNIQUE (org_id, username)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_org_username_key`);
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_username_key UNIQUE (username)`);
    await q.query(`DROP INDEX users_created_by_idx`);
    await q.query(`ALTER TABLE jobs DROP COLUMN submitted_key_minted_by`);
    await q.query(`ALTER TABLE jobs DROP COLUMN submitted_key_id`);
  }
}
