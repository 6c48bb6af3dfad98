import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../common/errors';
import { sendErrorResponse } from './all-exceptions.filter';

/** Where a request keeps the way to call its timeout off (see releaseRequestTimeout). */
const RELEASE = Symbol('simpletuner.releaseRequestTimeout');

type TimedRequest = IncomingMessage & { [RELEASE]?: () => void };

/** A long-lived route: its path, or a pattern for one with parameters (`/api/cloud/jobs/:id/logs/stream`). */
export type StreamingPath = string | RegExp;

export function isStreamingPath(paths: readonly StreamingPath[], path: string): boolean {
  return paths.some((p) => (typeof p === 'string' ? p === path : p.test(path)));
}

/**
 * Answers 503 `request_timeout` when a request has not been answered after `timeoutMs`, so a client never hangs on
 * a stuck dependency. Streaming routes (SSE) are long-lived by design and are left out. The handler itself keeps
 * running to its end (nothing can abort it safely halfway); whatever it answers later is dropped.
 */
export function requestTimeout(timeoutMs: number, streamingPaths: readonly StreamingPath[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (isStreamingPath(streamingPaths, req.path)) return next();
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      const seconds = Math.round(timeoutMs / 100) / 10;
      sendErrorResponse(
        res,
        new AppError('request_timeout', 503, `The request was not answered within ${seconds} s; retry later`),
      );
    }, timeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    (req as TimedRequest)[RELEASE] = clear;
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}

/**
 * Calls the request's timeout off: for a route that starts reading a streamed body (an upload), which lasts as long
 * as the client takes to send it. The route then answers for its own time limits; until it calls this, the timeout
 * covers it like any other (authentication included).
 */
export function releaseRequestTimeout(req: IncomingMessage): void {
  (req as TimedRequest)[RELEASE]?.();
}
