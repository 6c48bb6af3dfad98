import { Injectable } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { AppConfig } from '../config';

const WINDOW_MS = 60_000;
const THROTTLER = 'failed_authentication';
/** How long a key that authenticated stays known-good for a blocked address (it is still checked every time). */
const GOOD_KEY_MS = 10 * 60_000;
const MAX_GOOD_KEYS = 10_000;

/**
 * Slows down key guessing: past SIMPLETUNER_AUTH_FAILURE_LIMIT failed key checks from one client address within a
 * minute, that address is answered 429 for a minute without a database lookup. Keys that authenticated recently on
 * this instance keep working from that address (a guesser on the same network does not lock out its users); they
 * are still checked against the database as usual. Counting and blocking are @nestjs/throttler's storage.
 */
@Injectable()
export class FailedAuthThrottle {
  private readonly limit: number;
  private readonly goodKeys = new Map<string, number>();

  constructor(
    private readonly storage: ThrottlerStorageService,
    config: AppConfig,
  ) {
    this.limit = config.env.SIMPLETUNER_AUTH_FAILURE_LIMIT;
  }

  /** Seconds until `address` may try again, or null when this attempt may go ahead. */
  blockedFor(address: string, keyHash: string, now = Date.now()): number | null {
    const record = this.storage.storage.get(trackerKey(address));
    if (!record?.isBlocked || record.blockExpiresAt <= now) return null;
    const goodUntil = this.goodKeys.get(keyHash);
    if (goodUntil !== undefined && goodUntil > now) return null;
    return Math.max(1, Math.ceil((record.blockExpiresAt - now) / 1000));
  }

  async recordFailure(address: string): Promise<void> {
    await this.storage.increment(trackerKey(address), WINDOW_MS, this.limit, WINDOW_MS, THROTTLER);
  }

  recordSuccess(keyHash: string, now = Date.now()): void {
    this.goodKeys.delete(keyHash); // re-inserted last: the map's order is the eviction order
    this.goodKeys.set(keyHash, now + GOOD_KEY_MS);
    if (this.goodKeys.size > MAX_GOOD_KEYS) this.goodKeys.delete(this.goodKeys.keys().next().value!);
  }
}

function trackerKey(address: string): string {
  return `auth-failures:${address}`;
}
