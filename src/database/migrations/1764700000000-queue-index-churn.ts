import { MigrationInterface, QueryRunner } from 'typeorm';

/** Entries in flight: every index below leaves them out, and active_idx (user_id, org_id) holds exactly them. */
const SETTLED = `status NOT IN ('dispatching', 'running')`;

/**
 * Fewer index entries per dispatch. A status change can never be a HOT update (status is in the partial indexes'
 * predicates), so every index that takes the new row version gets an entry: with the three plain indexes and the
 * `dispatching` one, claiming a hundred entries and recording them as running wrote eleven hundred index entries
 * per tick. Entries in flight (dispatching, running) are at most the global limit and active_idx already holds
 * them, so the other indexes leave them out: the reads that need them too (listings, the dispatch rate) add them
 * from active_idx, and the stale-dispatch check reads active_idx alone.
 */
export class QueueIndexChurn1764700000000 implements MigrationInterface {
  name = 'QueueIndexChurn1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX queue_entries_dispatching_idx`);
    await q.query(`DROP INDEX queue_entries_dispatched_at_idx`);
    await q.query(`DROP INDEX queue_entries_org_queued_idx`);
    await q.query(`DROP INDEX queue_entries_user_queued_idx`);
    await q.query(
      `CREATE INDEX queue_entries_dispatched_idx ON queue_entries (dispatched_at)
        WHERE ${SETTLED} AND dispatched_at IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX queue_entries_org_queued_idx ON queue_entries (org_id, queued_at DESC) WHERE ${SETTLED}`,
    );
    await q.query(
      `CREATE INDEX queue_entries_user_queued_idx ON queue_entries (user_id, queued_at DESC) WHERE ${SETTLED}`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX queue_entries_dispatched_idx`);
    await q.query(`DROP INDEX queue_entries_org_queued_idx`);
    await q.query(`DROP INDEX queue_entries_user_queued_idx`);
    await q.query(
      `CREATE INDEX queue_entries_dispatching_idx ON queue_entries (dispatched_at) WHERE status = 'dispatching'`,
    );
    await q.query(`CREATE INDEX queue_entries_dispatched_at_idx ON queue_entries (dispatched_at)`);
    await q.query(`CREATE INDEX queue_entries_org_queued_idx ON queue_entries (org_id, queued_at DESC)`);
    await q.query(`CREATE INDEX queue_entries_user_queued_idx ON queue_entries (user_id, queued_at DESC)`);
  }
}
