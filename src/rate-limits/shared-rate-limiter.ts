import type { Clock } from '../common/clock';
import type { LimitState } from './rate-limit-state';
import type { RateCounterRepository } from './rate-counter.repository';

const WINDOW_MS = 60_000;
/** Counters of windows older than this go (at most once a minute per instance). */
const KEEP_MS = 10 * WINDOW_MS;

/**
 * A per-minute limit counted in the database: every instance increments the same row of the subject's current
 * minute, so the limit holds for the whole service, exactly (each request gets its own number from the upsert).
 * Refused requests count too: a client has to stop, not retry faster, to get room back.
 */
export class SharedRateLimiter {
  private lastPrune = 0;

  constructor(
    private readonly counters: RateCounterRepository,
    private readonly clock: Clock,
    private readonly name: string,
    readonly limit: number,
  ) {}

  async hit(subject: string): Promise<LimitState> {
    const now = this.clock.now().getTime();
    const windowStart = now - (now % WINDOW_MS);
    const count = await this.counters.increment(this.name, subject, new Date(windowStart));
    if (now - this.lastPrune >= WINDOW_MS) {
      this.lastPrune = now;
      await this.counters.deleteBefore(new Date(windowStart - KEEP_MS));
    }
    return {
      limit: this.limit,
      remaining: this.limit - count,
      resetSeconds: (windowStart + WINDOW_MS - now) / 1000,
      exceeded: count > this.limit,
    };
  }
}
