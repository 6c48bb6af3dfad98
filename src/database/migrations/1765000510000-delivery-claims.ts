import { MigrationInterface, QueryRunner } from 'typeorm';

export class DeliveryClaims1765000510000 implements MigrationInterface {
  name = 'DeliveryClaims1765000510000';

  async up(q: QueryRunner): Promise<void> {
    // Which sender holds a delivery it claimed: whoever takes the outbox over next releases another's claims at
    // once instead of waiting for them to lapse.
    await q.query(`ALTER TABLE notification_deliveries ADD COLUMN claimed_by text`);
    await q.query(
      `CREATE INDEX notification_deliveries_claimed_idx ON notification_deliveries (claimed_by) WHERE claimed_by IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX notification_deliveries_claimed_idx`);
    await q.query(`ALTER TABLE notification_deliveries DROP COLUMN claimed_by`);
  }
}
