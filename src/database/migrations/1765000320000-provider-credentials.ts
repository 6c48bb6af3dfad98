import { MigrationInterface, QueryRunner } from 'typeorm';

export class ProviderCredentials1765000320000 implements MigrationInterface {
  name = 'ProviderCredentials1765000320000';

  async up(q: QueryRunner): Promise<void> {
    // Credentials set through the API, sealed (AES-256-GCM, {sealed, keyId}) with the service's secret key: the
    // provider's API token, its webhook signing secret, and the secret a rotation replaced, accepted until
    // previous_webhook_secret_until. The plain webhook_secret column stays only for rows written before this: the
    // app seals those at boot (the key is the app's configuration, which migrations do not see) and clears it.
    await q.query(`
      ALTER TABLE provider_configs
        ADD COLUMN api_token jsonb,
        ADD COLUMN webhook_secret_sealed jsonb,
        ADD COLUMN previous_webhook_secret jsonb,
        ADD COLUMN previous_webhook_secret_until timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE provider_configs
        DROP COLUMN previous_webhook_secret_until,
        DROP COLUMN previous_webhook_secret,
        DROP COLUMN webhook_secret_sealed,
        DROP COLUMN api_token`);
  }
}
