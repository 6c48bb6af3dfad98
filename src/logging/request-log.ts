import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { CallSite } from './call-site';
import { LEVEL_NUMBERS } from './levels';
import { LogCall, rootPino } from './pipeline';

const LOGGER = 'simpletuner.cloud.http';
const STARTED = Symbol('simpletuner.requestStarted');
/** The request line has one call site: this module (a stack capture per request would cost more than the line). */
const SITE: CallSite = { file: 'request-log.ts', line: 1, function: 'requestLine' };

type Req = IncomingMessage & {
  [STARTED]?: number;
  originalUrl?: string;
  baseUrl?: string;
  route?: { path?: unknown };
  user?: { id?: string };
  /** express's client address (the trusted proxies' X-Forwarded-For hop, else the TCP peer). */
  ip?: string;
};

export interface RequestLogOptions {
  /** The request's correlation id (set by the correlation middleware before this one runs). */
  correlationId(req: IncomingMessage, res: ServerResponse): string | null;
  /** Routes logged at DEBUG rather than INFO (probes, scrapes). */
  quiet(path: string): boolean;
  /** Long-lived responses (SSE) that log their own open and close lines instead. */
  streaming(path: string): boolean;
}

function pathOf(req: Req): string {
  const url = req.originalUrl ?? req.url ?? '';
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(0, q) : url;
}

/**
 * One line per request from `simpletuner.cloud.http` when its response ends, e.g. `GET /api/cloud/jobs 200
 * (3.1 ms)`, with method, route pattern, status, duration, client address, user and bytes in `extra`: never a query value, a header
 * value or a body. It is pino-http's request logging, shaped into our line (its own req/res dumps never exist).
 */
export function requestLogging(opts: RequestLogOptions): RequestHandler {
  const line = (req: Req, res: ServerResponse): LogCall => {
    const path = pathOf(req);
    const status = res.statusCode;
    const started = req[STARTED] ?? performance.now();
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const route = typeof req.route?.path === 'string' ? `${req.baseUrl ?? ''}${req.route.path}` : null;
    const length = Number(res.getHeader('content-length'));
    const level = opts.quiet(path) ? LEVEL_NUMBERS.DEBUG : LEVEL_NUMBERS.INFO;
    return new LogCall(
      level,
      LOGGER,
      `${req.method ?? 'GET'} ${path} ${status} (${durationMs} ms)`,
      {
        method: req.method,
        route,
        status,
        duration_ms: durationMs,
        client_ip: req.ip ?? req.socket?.remoteAddress ?? null,
        ...(req.user?.id ? { user_id: req.user.id } : {}),
        bytes: Number.isFinite(length) ? length : null,
      },
      SITE,
      { correlationId: opts.correlationId(req, res) },
    );
  };
  const handler = pinoHttp({
    logger: rootPino,
    // No per-request child logger carrying the request: nothing of it is ever serialised.
    quietReqLogger: true,
    quietResLogger: true,
    genReqId: (req, res) => {
      (req as Req)[STARTED] = performance.now();
      return opts.correlationId(req, res) ?? '';
    },
    autoLogging: { ignore: (req) => opts.streaming(pathOf(req as Req)) },
    customLogLevel: (req) => (opts.quiet(pathOf(req as Req)) ? 'debug' : 'info'),
    customSuccessObject: (req, res) => line(req as Req, res),
    customErrorObject: (req, res) => line(req as Req, res),
  });
  return handler;
}
