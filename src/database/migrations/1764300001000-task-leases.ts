import { MigrationInterface, QueryRunner } from 'typeorm';

export class TaskLeases1764300001000 implements MigrationInterface {
  name = 'TaskLeases1764300001000';

  async up(q: QueryRunner): Promise<void> {
    // One row per single-leader background task: whoever moves last_run_at forward runs that interval.
    await q.query(`
      CREATE TABLE task_leases (
        task text PRIMARY KEY,
        last_run_at timestamptz NOT NULL,
        holder text
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE task_leases`);
  }
}
