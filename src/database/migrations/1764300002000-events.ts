import { MigrationInterface, QueryRunner } from 'typeorm';

export class Events1764300002000 implements MigrationInterface {
  name = 'Events1764300002000';

  async up(q: QueryRunner): Promise<void> {
    // tx_id is the inserting transaction's id. Ids are taken at insert, not at commit, so two publishers can
    // commit out of id order; readers order by (tx_id, id) and deliver only rows whose transaction is older
    // than every transaction of this database still running (from pg_current_snapshot()), which makes the
    // delivery order commit-safe without a lock shared by every publisher. job/user/org have no foreign keys: the
    // log outlives the rows it talks about until retention purges it.
    await q.query(`
      CREATE TABLE events (
        id bigserial PRIMARY KEY,
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        type text NOT NULL,
        job_id text,
        user_id uuid,
        org_id uuid,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX events_tx_id_id_idx ON events (tx_id, id)`);
    await q.query(`CREATE INDEX events_created_at_idx ON events (created_at)`);
    await q.query(`CREATE INDEX events_job_id_idx ON events (job_id) WHERE job_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE events`);
  }
}
