import { Injectable } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { AppConfig } from '../config';

const WINDOW_MS = 60_000;
const THROTTLER = 'failed_authentication';
const MAX_FAILED_KEYS = 10_000;

/**
 * Slows down key guessing without locking anyone else out. Failed key checks are counted per client address and
 * per key prefix (`st_` + 8, what a guesser of one known key keeps fixed); past SIMPLETUNER_AUTH_FAILURE_LIMIT
 * within a minute on either, failing attempts are answered 429 for a minute instead of 401, and a key that already
 * failed is refused again from memory, without a database lookup. A key that has not failed is always checked
 * against the database, so a valid one is never refused: a noisy client behind the same proxy address, or one
 * hammering a prefix, locks out nobody's working key. Counting and blocking are @nestjs/throttler's storage.
 */
@Injectable()
export class FailedAuthThrottle {
  private readonly limit: number;
  /** Key hash → until when it is refused without a lookup while its address or prefix is blocked. */
  private readonly failedKeys = new Map<string, number>();

  constructor(
    private readonly storage: ThrottlerStorageService,
    config: AppConfig,
  ) {
    this.limit = config.env.SIMPLETUNER_AUTH_FAILURE_LIMIT;
  }

  /**
   * Before the lookup: seconds to wait when this very key failed recently and its address or prefix is blocked;
   * null when the key must be checked (any key that has not failed).
   */
  refusedFor(address: string, prefix: string, keyHash: string, now = Date.now()): number | null {
    const failedUntil = this.failedKeys.get(keyHash);
    if (failedUntil === undefined) return null;
    if (failedUntil <= now) {
      this.failedKeys.delete(keyHash);
      return null;
    }
    return this.blockedFor(address, prefix, now);
  }

  /**
   * After a failed lookup: counts it; seconds to wait when its address or prefix was already blocked, else null (the
   * failure that starts a block is still an ordinary 401).
   */
  async recordFailure(address: string, prefix: string, keyHash: string, now = Date.now()): Promise<number | null> {
    const wait = this.blockedFor(address, prefix, now);
    await Promise.all(
      [addressKey(address), prefixKey(prefix)].map((key) =>
        this.storage.increment(key, WINDOW_MS, this.limit, WINDOW_MS, THROTTLER),
      ),
    );
    const blockedFor = this.blockedFor(address, prefix, now);
    if (blockedFor !== null) {
      this.failedKeys.delete(keyHash); // re-inserted last: the map's order is the eviction order
      this.failedKeys.set(keyHash, now + blockedFor * 1000);
      if (this.failedKeys.size > MAX_FAILED_KEYS) this.failedKeys.delete(this.failedKeys.keys().next().value!);
    }
    return wait;
  }

  private blockedFor(address: string, prefix: string, now: number): number | null {
    let until = 0;
    for (const key of [addressKey(address), prefixKey(prefix)]) {
      const record = this.storage.storage.get(key);
      if (record?.isBlocked && record.blockExpiresAt > now) until = Math.max(until, record.blockExpiresAt);
    }
    return until > now ? Math.max(1, Math.ceil((until - now) / 1000)) : null;
  }
}

function addressKey(address: string): string {
  return `auth-failures:address:${address}`;
}

function prefixKey(prefix: string): string {
  return `auth-failures:prefix:${prefix}`;
}
