import { backoffDelay } from '../http';
import type { AttemptRecord } from './deliveries.repository';
import type { SendResult } from './http-transport';

/** Attempts of one delivery before it is given up. */
const MAX_ATTEMPTS = 8;
/** A channel whose last this many deliveries all failed is switched off. */
export const DISABLE_AFTER_FAILURES = 20;
/** A server asking to wait longer than this is taken at its word only this far. */
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/**
 * Where a delivery goes after an attempt (`attempts` counts it): delivered; failed for good (a 4xx other than 408
 * and 429, a redirect, or the last attempt); or due again after base·2ⁿ⁻¹ (±25 %), or after the Retry-After asked.
 */
export function afterAttempt(result: SendResult, attempts: number, now: Date, baseMs: number): AttemptRecord {
  const common = { statusCode: result.statusCode, durationMs: result.durationMs, excerpt: result.excerpt };
  if (result.ok) return { ...common, error: null, status: 'succeeded', nextAttemptAt: now, deliveredAt: now };
  if (!result.retryable || attempts >= MAX_ATTEMPTS)
    return { ...common, error: result.error, status: 'failed', nextAttemptAt: now, deliveredAt: null };
  const delay =
    result.retryAfterMs !== null
      ? Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS)
      : backoffDelay(attempts, { baseDelayMs: baseMs, maxDelayMs: MAX_RETRY_AFTER_MS, jitter: 'spread' });
  return {
    ...common,
    error: result.error,
    status: 'pending',
    nextAttemptAt: new Date(now.getTime() + delay),
    deliveredAt: null,
  };
}
