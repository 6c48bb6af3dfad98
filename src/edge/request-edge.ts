import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendErrorResponse } from './all-exceptions.filter';
import type { AppConfig } from '../config';
import { requestLogging } from '../logging';
import { correlationMiddleware } from './correlation.middleware';
import { refuseBadTextInBody, refuseBadTextInRawJson, refuseBadTextInUrl, verifyJsonBody } from './input-guards';
import { isStreamingPath, requestTimeout, type StreamingPath } from './request-timeout';
import { apiSecurityHeaders, CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS, noStore } from './security-headers';

/** Body limit of every JSON route (413 above it). */
const JSON_LIMIT = '1mb';

/** A route that takes its body raw (signature checks need the exact bytes), with its own size limit. */
interface RawBodyRoute {
  path: string;
  /** Bytes. */
  limit: number;
  /** Runs before the body is read: refuse what can be refused from the headers alone. */
  preflight?: RequestHandler[];
}

export interface RequestEdgeOptions {
  rawBodyRoutes: RawBodyRoute[];
  /**
   * Routes that read their body themselves, as a stream (uploads): no body parser touches it, whatever its type, and
   * the route calls the request timeout off once it starts reading (releaseRequestTimeout).
   */
  streamedBodyPaths: string[];
  /** Long-lived responses (SSE) that the request timeout must not cut: paths, or patterns of parametric ones. */
  streamingPaths: StreamingPath[];
}

/**
 * Everything a request meets before a controller, in order: its correlation context (first, so every error below
 * carries the id), security headers, CORS when configured, the request timeout, checks that need no body, then body
 * parsing with its limits, and one error handler that answers parse failures in the API's error shape.
 */
export function installRequestEdge(app: NestExpressApplication, config: AppConfig, opts: RequestEdgeOptions): void {
  app.use(correlationMiddleware);
  app.use(
    requestLogging({
      correlationId: (_req, res) => (res.getHeader('X-Correlation-ID') as string | undefined) ?? null,
      quiet: (path) => path.startsWith('/health/') || path === '/metrics',
      streaming: (path) => isStreamingPath(opts.streamingPaths, path),
    }),
  );
  app.use(apiSecurityHeaders);
  app.use(noStore);
  const origins = config.env.SIMPLETUNER_CORS_ORIGINS;
  if (origins.length > 0) {
    app.enableCors({
      // `*`: any origin, without credentials (the API authenticates by header, never by cookie).
      origin: origins.includes('*') ? '*' : origins,
      credentials: false,
      allowedHeaders: CORS_ALLOWED_HEADERS,
      exposedHeaders: CORS_EXPOSED_HEADERS,
      maxAge: 600,
    });
  }
  app.use(requestTimeout(config.env.SIMPLETUNER_REQUEST_TIMEOUT * 1000, opts.streamingPaths));
  // A streamed body may be answered before it is read (no key, too large): its connection is closed after the
  // answer, so that the rest of it is never read only to be thrown away (keeping the connection would drain it).
  const streamedPaths = new Set(opts.streamedBodyPaths);
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (streamedPaths.has(req.path)) res.setHeader('Connection', 'close');
    next();
  });
  app.use(refuseBadTextInUrl);

  const rawPaths = new Set([...opts.rawBodyRoutes.map((r) => r.path), ...opts.streamedBodyPaths]);
  for (const route of opts.rawBodyRoutes) {
    if (route.preflight) app.use(route.path, route.preflight);
    app.use(route.path, express.raw({ type: () => true, limit: route.limit }));
    app.use(route.path, refuseBadTextInRawJson);
  }
  const json = express.json({
    limit: JSON_LIMIT,
    type: ['application/json', 'application/*+json'],
    verify: verifyJsonBody,
  });
  const form = express.urlencoded({ extended: false, limit: JSON_LIMIT });
  const notRaw =
    (parser: RequestHandler): RequestHandler =>
    (req, res, next) =>
      rawPaths.has(req.path) ? next() : parser(req, res, next);
  app.use(notRaw(json));
  app.use(notRaw(form));
  app.use(notRaw(refuseBadTextInBody));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => sendErrorResponse(res, err));
}
