import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendErrorResponse } from '../edge';
import type { AppConfig } from '../config';
import { MemoryRateLimiter } from './memory-rate-limiter';
import { limitExceeded, setRateLimitHeaders } from './rate-limit-state';

/**
 * The provider webhook's limit (SIMPLETUNER_RATE_LIMIT_WEBHOOKS_PER_MINUTE per client address, per instance),
 * checked before its body is read; 0 = off.
 */
export function webhookRateLimit(config: AppConfig): RequestHandler {
  const limit = config.env.SIMPLETUNER_RATE_LIMIT_WEBHOOKS_PER_MINUTE;
  const limiter = limit ? new MemoryRateLimiter('webhooks', limit) : null;
  return (req: Request, res: Response, next: NextFunction) => {
    if (!limiter || req.method !== 'POST') return next();
    limiter.hit(`ip:${req.ip ?? 'unknown'}`).then(
      (state) => {
        setRateLimitHeaders(res, state);
        if (!state.exceeded) return next();
        res.setHeader('Connection', 'close');
        sendErrorResponse(res, limitExceeded('webhooks', state));
      },
      (err: unknown) => next(err),
    );
  };
}
