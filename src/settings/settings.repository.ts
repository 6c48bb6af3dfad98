import { Injectable } from '@nestjs/common';
import { Db } from '../database/transaction-host';

/** The `app_settings` table: run-time settings as JSON, one row per key. */
@Injectable()
export class SettingsRepository {
  constructor(private readonly db: Db) {}

  async read(key: string): Promise<unknown> {
    const rows = await this.db.tx.query<
      {
        value: unknown;
      }[]
    >(`SELECT value FROM app_settings WHERE key = $1`, [key]);
    return rows[0]?.value;
  }

  async write(key: string, value: unknown): Promise<void> {
    await this.db.tx.query(
      `INSERT INTO app_settings (key, value, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [key, JSON.stringify(value)],
    );
  }

  async remove(key: string): Promise<void> {
    await this.db.tx.query(`DELETE FROM app_settings WHERE key = $1`, [key]);
  }
}
