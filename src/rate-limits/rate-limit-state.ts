import type { Response } from 'express';
import { RateLimitError } from '../common/errors';

/** Where one limit stands for one request's subject: what the RateLimit-* headers say. */
export interface LimitState {
  limit: number;
  remaining: number;
  /** Seconds until the window frees room. */
  resetSeconds: number;
  exceeded: boolean;
}

export function setRateLimitHeaders(res: Pick<Response, 'setHeader'>, state: LimitState): void {
  res.setHeader('RateLimit-Limit', String(state.limit));
  res.setHeader('RateLimit-Remaining', String(Math.max(0, state.remaining)));
  res.setHeader('RateLimit-Reset', String(Math.max(1, Math.ceil(state.resetSeconds))));
}

/** The 429 of a limit that was passed: its headers stay on the error response, Retry-After added. */
export function limitExceeded(what: string, state: LimitState): RateLimitError {
  return new RateLimitError(
    `Rate limit exceeded: ${state.limit} ${what} per minute; retry later`,
    { limit: state.limit, retry_after_seconds: Math.max(1, Math.ceil(state.resetSeconds)) },
    state.resetSeconds,
  );
}
