import { MigrationInterface, QueryRunner } from 'typeorm';

export class ClientAddressAndRateLimits1765000300000 implements MigrationInterface {
  name = 'ClientAddressAndRateLimits1765000300000';

  async up(q: QueryRunner): Promise<void> {
    // Where a change came from: the request's client address after the trusted proxies.
    await q.query(`ALTER TABLE audit_log ADD COLUMN client_ip text`);
    // Requests of one limit and subject (an API key) in one fixed minute, counted by every instance alike: one row
    // per subject and minute, incremented atomically (an upsert), pruned once its minute is long gone.
    await q.query(`
      CREATE TABLE api_rate_counters (
        name text NOT NULL,
        subject text NOT NULL,
        window_start timestamptz NOT NULL,
        count integer NOT NULL,
        PRIMARY KEY (name, subject, window_start)
      )`);
    await q.query(`CREATE INDEX api_rate_counters_window_idx ON api_rate_counters (window_start)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_rate_counters`);
    await q.query(`ALTER TABLE audit_log DROP COLUMN client_ip`);
  }
}
