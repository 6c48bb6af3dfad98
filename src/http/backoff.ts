/** Retry timing: exponential backoff with full jitter, and the server's Retry-After. */

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * `full` (default): a uniform pick in [0, delay], the spread retries of many clients need. `spread`: the delay
   * ±25%, for retries that must not come early (a provider that failed a dispatch).
   */
  jitter?: 'full' | 'spread';
}

/** Exponential backoff: min(cap, base × 2^(attempt-1)) with jitter, attempt counted from 1. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  if (opts.jitter === 'spread') return Math.round(ceiling * (0.75 + random() * 0.5));
  return Math.floor(random() * ceiling);
}

/**
 * Retry-After in milliseconds: delta-seconds or an HTTP date; null when absent or unreadable.
 * A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
