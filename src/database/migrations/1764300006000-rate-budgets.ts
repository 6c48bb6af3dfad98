import { MigrationInterface, QueryRunner } from 'typeorm';

export class RateBudgets1764300006000 implements MigrationInterface {
  name = 'RateBudgets1764300006000';

  async up(q: QueryRunner): Promise<void> {
    // One token bucket per outbound budget (e.g. Replicate creates), shared by every instance.
    await q.query(`
      CREATE TABLE rate_budgets (
        name text PRIMARY KEY,
        tokens double precision NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rate_budgets`);
  }
}
