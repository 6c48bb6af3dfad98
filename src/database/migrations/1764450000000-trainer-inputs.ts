import { MigrationInterface, QueryRunner } from 'typeorm';

export class TrainerInputs1764450000000 implements MigrationInterface {
  name = 'TrainerInputs1764450000000';

  async up(q: QueryRunner): Promise<void> {
    // What the trainer takes besides its config: the multidatabackend list, a LyCORIS config, the dataset archive,
    // where to publish, a step limit, and the names (never the values) of the secrets the job was given.
    await q.query(`
      ALTER TABLE jobs
        ADD COLUMN dataloader_config jsonb,
        ADD COLUMN lycoris_config jsonb,
        ADD COLUMN dataset jsonb,
        ADD COLUMN hub_model_id text,
        ADD COLUMN max_train_steps int CHECK (max_train_steps >= 1),
        ADD COLUMN secret_names text[] NOT NULL DEFAULT '{}'`);
    // A job's secret values, sealed (AES-256-GCM) with the key named by key_id; deleted when the job ends.
    await q.query(`
      CREATE TABLE job_secrets (
        job_id uuid NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
        name text NOT NULL,
        sealed text NOT NULL,
        key_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job_id, name)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE job_secrets`);
    await q.query(`
      ALTER TABLE jobs
        DROP COLUMN secret_names, DROP COLUMN max_train_steps, DROP COLUMN hub_model_id,
        DROP COLUMN dataset, DROP COLUMN lycoris_config, DROP COLUMN dataloader_config`);
  }
}
