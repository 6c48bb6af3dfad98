import { MigrationInterface, QueryRunner } from 'typeorm';

export class ApprovalRuleLevels1765000330000 implements MigrationInterface {
  name = 'ApprovalRuleLevels1765000330000';

  async up(q: QueryRunner): Promise<void> {
    // The levels a rule applies to (empty = all), and the `user_level` condition (its threshold: a level name).
    await q.query(`ALTER TABLE approval_rules ADD COLUMN applies_to_levels text[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE approval_rules DROP CONSTRAINT approval_rules_condition_check`);
    await q.query(`
      ALTER TABLE approval_rules ADD CONSTRAINT approval_rules_condition_check CHECK (condition IN
        ('cost_exceeds', 'first_job', 'hardware_type', 'provider', 'config_pattern', 'daily_jobs_exceed', 'user_level'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM approval_rules WHERE condition = 'user_level'`);
    await q.query(`ALTER TABLE approval_rules DROP CONSTRAINT approval_rules_condition_check`);
    await q.query(`
      ALTER TABLE approval_rules ADD CONSTRAINT approval_rules_condition_check CHECK (condition IN
        ('cost_exceeds', 'first_job', 'hardware_type', 'provider', 'config_pattern', 'daily_jobs_exceed'))`);
    await q.query(`ALTER TABLE approval_rules DROP COLUMN applies_to_levels`);
  }
}
