import { Injectable } from '@nestjs/common';
import { Db } from '../database/transaction-host';
import type { SealedValue } from '../secrets';
import { ProviderConfig } from './provider-config.entity';

/** The `provider_configs` table: one row per provider whose settings were changed through the API. */
@Injectable()
export class ProviderConfigRepository {
  constructor(private readonly db: Db) {}

  find(name: string): Promise<ProviderConfig | null> {
    return this.db.tx.getRepository(ProviderConfig).findOneBy({ name });
  }

  save(config: ProviderConfig): Promise<ProviderConfig> {
    return this.db.tx.getRepository(ProviderConfig).save(config);
  }

  /**
   * Seals every webhook secret still in plain text and clears the plain column; the providers it sealed. Each row
   * is updated only while its plain secret is still there, so instances booting together seal it once each at most
   * and both results open.
   */
  async sealPlainWebhookSecrets(seal: (plain: string) => SealedValue): Promise<string[]> {
    const rows = await this.db.tx.query<{ name: string; webhook_secret: string }[]>(
      `SELECT name, webhook_secret FROM provider_configs WHERE webhook_secret IS NOT NULL`,
    );
    for (const row of rows) {
      await this.db.tx.query(
        `UPDATE provider_configs SET webhook_secret_sealed = $2::jsonb, webhook_secret = NULL
          WHERE name = $1 AND webhook_secret = $3`,
        [row.name, JSON.stringify(seal(row.webhook_secret)), row.webhook_secret],
      );
    }
    return rows.map((r) => r.name);
  }
}
