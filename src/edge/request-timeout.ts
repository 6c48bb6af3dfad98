import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../common/errors';
import { sendErrorResponse } from './all-exceptions.filter';

/**
 * Answers 503 `request_timeout` when a request has not been answered after `timeoutMs`, so a client never hangs on
 * a stuck dependency. Streaming routes (SSE) are long-lived by design and are left out. The handler itself keeps
 * running to its end (nothing can abort it safely halfway); whatever it answers later is dropped.
 */
export function requestTimeout(timeoutMs: number, streamingPaths: readonly string[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (streamingPaths.includes(req.path)) return next();
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
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}
