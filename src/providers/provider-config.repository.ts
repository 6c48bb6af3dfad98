import { Injectable } from '@nestjs/common';
import { Db } from '../database/transaction-host';
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
}
