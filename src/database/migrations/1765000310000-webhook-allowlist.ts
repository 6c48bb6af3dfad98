import { MigrationInterface, QueryRunner } from 'typeorm';

export class WebhookAllowlist1765000310000 implements MigrationInterface {
  name = 'WebhookAllowlist1765000310000';

  async up(q: QueryRunner): Promise<void> {
    // Addresses and CIDR ranges a provider's webhooks may come from; empty = anywhere.
    await q.query(`ALTER TABLE provider_configs ADD COLUMN webhook_allowed_ips text[] NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE provider_configs DROP COLUMN webhook_allowed_ips`);
  }
}
