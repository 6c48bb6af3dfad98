import { MigrationInterface, QueryRunner } from 'typeorm';

export class Sessions1765000400000 implements MigrationInterface {
  name = 'Sessions1765000400000';

  async up(q: QueryRunner): Promise<void> {
    // `oidc_subject`: the provider's issuer and `sub` of a user who signs in with single sign-on; a later sign-in
    // finds the account by it, whatever the username claims say then.
    await q.query(`ALTER TABLE users ADD COLUMN oidc_subject text`);
    await q.query(`CREATE UNIQUE INDEX users_oidc_subject_key ON users (oidc_subject) WHERE oidc_subject IS NOT NULL`);
    // A browser session: the cookie holds a random token, this table only its SHA-256.
    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash text NOT NULL,
        csrf_token text NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
      )`);
    await q.query(`CREATE INDEX sessions_user_id_idx ON sessions (user_id)`);
    // A sign-in under way at the provider: what the callback checks (the `state` the browser also holds in a
    // cookie, the `nonce` of the ID token, the PKCE verifier). Used once, gone after ten minutes.
    await q.query(`
      CREATE TABLE oidc_logins (
        state_hash text PRIMARY KEY,
        nonce text NOT NULL,
        code_verifier text NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE oidc_logins`);
    await q.query(`DROP TABLE sessions`);
    await q.query(`DROP INDEX users_oidc_subject_key`);
    await q.query(`ALTER TABLE users DROP COLUMN oidc_subject`);
  }
}
