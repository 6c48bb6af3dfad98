import { MigrationInterface, QueryRunner } from 'typeorm';

export class OrgSoftDelete1765000500000 implements MigrationInterface {
  name = 'OrgSoftDelete1765000500000';

  async up(q: QueryRunner): Promise<void> {
    // An organisation whose former members' finished jobs, approval requests or uploads still name it is deleted by
    // marking it: the history keeps pointing at it, and its name is free again.
    await q.query(`ALTER TABLE orgs ADD COLUMN deleted_at timestamptz`);
    await q.query(`ALTER TABLE orgs DROP CONSTRAINT orgs_name_key`);
    await q.query(`CREATE UNIQUE INDEX orgs_name_key ON orgs (name) WHERE deleted_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX orgs_name_key`);
    await q.query(`UPDATE orgs SET name = name || ' (deleted ' || id || ')' WHERE deleted_at IS NOT NULL`);
    await q.query(`ALTER TABLE orgs ADD CONSTRAINT orgs_name_key UNIQUE (name)`);
    await q.query(`ALTER TABLE orgs DROP COLUMN deleted_at`);
  }
}
