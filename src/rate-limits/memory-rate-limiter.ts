import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { LimitState } from './rate-limit-state';

/**
 * A per-minute limit counted in this process: rate-limiter-flexible's fixed one-minute window per subject, O(1) per
 * request whatever the limit (a sliding log of every hit would cost a walk over it on each request).
 */
export class MemoryRateLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(
    name: string,
    readonly limit: number,
  ) {
    this.limiter = new RateLimiterMemory({ keyPrefix: name, points: limit, duration: 60 });
  }

  async hit(subject: string): Promise<LimitState> {
    try {
      const r = await this.limiter.consume(subject);
      return { limit: this.limit, remaining: r.remainingPoints, resetSeconds: r.msBeforeNext / 1000, exceeded: false };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      return { limit: this.limit, remaining: 0, resetSeconds: err.msBeforeNext / 1000, exceeded: true };
    }
  }
}
