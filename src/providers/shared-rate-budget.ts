import { sleep } from '../http';
import { BucketShape, RateBudgetRepository } from './rate-budget.repository';

/** What a provider client waits on before each call that counts against the provider's own rate limits. */
export interface CallBudget {
  /** Resolves when the call may go; rejects (nothing sent) when it would wait longer than its bound. */
  acquire(kind: CallKind): Promise<void>;
}

export type CallKind = 'create' | 'call';

export interface BudgetLimit {
  /** Calls allowed in any window... */
  limit: number;
  /** ...of this many seconds. */
  windowSeconds: number;
}

/** Thrown when the budget would keep a call waiting past MAX_WAIT_MS: the caller retries later, as after a 429. */
export class BudgetExhaustedError extends Error {
  constructor(
    readonly budget: string,
    readonly waitMs: number,
  ) {
    super(`The ${budget} rate budget is spent; next call possible in ${Math.ceil(waitMs / 1000)} s`);
    this.name = 'BudgetExhaustedError';
  }
}

/**
 * Bounds the wait: a dispatch waiting longer than this would be taken for a lost one (the queue reconciles
 * dispatches older than a minute), so it gives up and is retried like a 429.
 */
const MAX_WAIT_MS = 20_000;

/**
 * The bucket for "at most `limit` calls in any `windowSeconds`": a tenth of the limit may go at once, the rest
 * flows evenly, and a tenth is kept in hand, so that any window sees at most 90% of the limit (the provider counts
 * with its own clock and sees our calls late or early by their latency).
 */
export function bucketFor({ limit, windowSeconds }: BudgetLimit): BucketShape {
  const capacity = Math.max(1, Math.round(limit / 10));
  const perSecond = Math.max(0.9 * limit - capacity, 1) / windowSeconds;
  return { capacity, perSecond };
}

/**
 * A provider's rate budget shared by every instance (a token bucket row per kind of call in PostgreSQL), so N
 * instances together stay under the provider's limit instead of each of them.
 */
export class SharedRateBudget implements CallBudget {
  private readonly buckets: Record<CallKind, { name: string; shape: BucketShape }>;

  constructor(
    private readonly repo: RateBudgetRepository,
    provider: string,
    limits: Record<CallKind, BudgetLimit>,
  ) {
    this.buckets = {
      create: { name: `${provider}.create`, shape: bucketFor(limits.create) },
      call: { name: `${provider}.call`, shape: bucketFor(limits.call) },
    };
  }

  async acquire(kind: CallKind): Promise<void> {
    const { name, shape } = this.buckets[kind];
    const deadline = Date.now() + MAX_WAIT_MS;
    for (;;) {
      const taken = await this.repo.take(name, shape);
      if (taken.granted) return;
      // A little jitter so that waiters of several instances do not all come back in the same millisecond.
      const wait = taken.waitMs + Math.random() * 20;
      if (Date.now() + wait > deadline) throw new BudgetExhaustedError(name, wait);
      await sleep(wait);
    }
  }
}
