import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** A token bucket: at most `capacity` tokens, refilled at `perSecond`. */
export interface BucketShape {
  capacity: number;
  perSecond: number;
}

export type TakeResult = { granted: true; at: Date } | { granted: false; waitMs: number };

/** Tokens available now: what was left plus the refill since, never more than the capacity. */
const AVAILABLE = `LEAST($2::float8, tokens + GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - updated_at)) * $3::float8)`;

/**
 * The `rate_budgets` table: token buckets shared by every instance through the database. Always outside any
 * transaction (the DataSource itself, not the caller's unit of work): a budget is spent whatever becomes of the
 * caller's transaction, and waiting for tokens must never hold one open.
 */
@Injectable()
export class RateBudgetRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Takes one token if one is there. A single UPDATE: the row lock serialises instances, and a waiting UPDATE
   * re-reads the row it waited for, so two instances never spend the same token. The database's clock is the one
   * clock every instance shares.
   */
  async take(name: string, bucket: BucketShape): Promise<TakeResult> {
    const taken = await this.db.query<[{ updated_at: Date }[], number]>(
      `UPDATE rate_budgets
          SET tokens = ${AVAILABLE} - 1, updated_at = GREATEST(updated_at, clock_timestamp())
        WHERE name = $1 AND ${AVAILABLE} >= 1
        RETURNING updated_at`,
      [name, bucket.capacity, bucket.perSecond],
    );
    const rows = taken[0];
    if (rows.length > 0) return { granted: true, at: new Date(rows[0].updated_at) };
    const [state] = await this.db.query<{ available: number }[]>(
      `SELECT ${AVAILABLE} AS available FROM rate_budgets WHERE name = $1`,
      [name, bucket.capacity, bucket.perSecond],
    );
    if (!state) {
      await this.create(name, bucket.capacity);
      return { granted: false, waitMs: 0 };
    }
    return { granted: false, waitMs: Math.max(1, ((1 - Number(state.available)) / bucket.perSecond) * 1000) };
  }

  /** A new bucket starts full; an existing one is left as it is. */
  async create(name: string, capacity: number): Promise<void> {
    await this.db.query(
      `INSERT INTO rate_budgets (name, tokens, updated_at) VALUES ($1, $2, clock_timestamp()) ON CONFLICT (name) DO NOTHING`,
      [name, capacity],
    );
  }
}
