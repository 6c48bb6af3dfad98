import { MigrationInterface, QueryRunner } from 'typeorm';

export class Uploads1764500010000 implements MigrationInterface {
  name = 'Uploads1764500010000';

  async up(q: QueryRunner): Promise<void> {
    // A row exists only for an upload that arrived whole and is kept at its provider.
    await q.query(`
      CREATE TABLE uploads (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id),
        org_id uuid NOT NULL REFERENCES orgs(id),
        provider text NOT NULL,
        external_id text NOT NULL,
        filename text NOT NULL,
        content_type text NOT NULL,
        size bigint NOT NULL CHECK (size >= 0),
        sha256 text NOT NULL,
        url text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz
      )`);
    await q.query(`CREATE INDEX uploads_user_created_idx ON uploads (user_id, created_at DESC)`);
    await q.query(`CREATE INDEX uploads_org_created_idx ON uploads (org_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE uploads`);
  }
}
