import { MigrationInterface, QueryRunner } from 'typeorm';

export class JobProgress1764800200000 implements MigrationInterface {
  name = 'JobProgress1764800200000';

  async up(q: QueryRunner): Promise<void> {
    // `progress`: the training progress read from the job's log (null until the log tells any). `progress_event`:
    // when the last job_progress event went out and the stage and percent it carried, which decide whether the
    // next change is worth another one.
    await q.query(`ALTER TABLE jobs ADD COLUMN progress jsonb, ADD COLUMN progress_event jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs DROP COLUMN progress_event, DROP COLUMN progress`);
  }
}
