import { Injectable } from '@nestjs/common';
import { Db } from '../database/transaction-host';

/** The `api_rate_counters` table: one row per limit, subject and fixed minute, shared by every instance. */
@Injectable()
export class RateCounterRepository {
  constructor(private readonly db: Db) {}

  /**
   * Counts one more request of `subject` in the window starting at `windowStart` and returns the window's count,
   * this one included. The upsert is atomic: concurrent requests on any instance each get their own number.
   */
  async increment(name: string, subject: string, windowStart: Date): Promise<number> {
    const rows = await this.db.tx.query<{ count: number }[]>(
      `INSERT INTO api_rate_counters (name, subject, window_start, count) VALUES ($1, $2, $3, 1)
       ON CONFLICT (name, subject, window_start) DO UPDATE SET count = api_rate_counters.count + 1
       RETURNING count`,
      [name, subject, windowStart],
    );
    return rows[0].count;
  }

  async deleteBefore(cutoff: Date): Promise<void> {
    await this.db.tx.query(`DELETE FROM api_rate_counters WHERE window_start < $1`, [cutoff]);
  }
}
