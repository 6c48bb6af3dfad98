import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * Headers for a JSON API: nothing on these responses is a page, so the content policy allows nothing, frames are
 * refused and browsers must not sniff types. Routes that serve pages (documentation, the dashboard) set their own
 * Content-Security-Policy on their responses.
 */
export const apiSecurityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginResourcePolicy: { policy: 'same-origin' },
});

/** API responses carry keys, jobs and costs: no cache (shared or private) keeps them. */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  next();
}

/** The request headers a browser client sends, and the response headers it may read. */
export const CORS_ALLOWED_HEADERS = [
  'Content-Type',
  'X-API-Key',
  'Authorization',
  'X-Correlation-ID',
  'Idempotency-Key',
  'Last-Event-ID',
  'traceparent',
];
export const CORS_EXPOSED_HEADERS = ['X-Correlation-ID', 'Idempotent-Replayed', 'Retry-After', 'X-Last-Event-ID'];
