import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { Response } from 'express';
import { getLogger } from '../logging';
import { AppError, RateLimitError } from '../common/errors';
import { codeForStatus, errorBody, ErrorBody } from '../common/error-body';

const log = getLogger('simpletuner.cloud.http');

/** Turns anything thrown into the one error body; a 500 never carries internals (they go to the log). */
function toErrorResponse(exception: unknown): { status: number; body: ErrorBody } {
  if (exception instanceof AppError) {
    return { status: exception.status, body: errorBody(exception.code, exception.message, exception.details) };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const payload = typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
    const code =
      typeof payload.error === 'string' && /^[a-z_]+$/.test(payload.error) ? payload.error : codeForStatus(status);
    const message = Array.isArray(payload.message)
      ? payload.message.join('; ')
      : typeof payload.message === 'string'
        ? payload.message
        : exception.message;
    const details =
      typeof payload.details === 'object' && payload.details !== null
        ? (payload.details as Record<string, unknown>)
        : undefined;
    return { status, body: errorBody(code, message, details) };
  }
  // body-parser and other express middleware errors carry `status` and `type`.
  const maybe = exception as { status?: number; statusCode?: number; type?: string; expose?: boolean } | undefined;
  const status = maybe?.status ?? maybe?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && maybe?.expose !== false) {
    if (maybe?.type === 'entity.parse.failed') {
      return {
        status: 400,
        body: errorBody('validation_error', 'Request body is not valid JSON', { body: 'malformed JSON' }),
      };
    }
    if (maybe?.type === 'entity.too.large') {
      return { status: 413, body: errorBody('payload_too_large', 'Request body is too large') };
    }
    return { status, body: errorBody(codeForStatus(status), (exception as Error).message) };
  }
  log.error('Unhandled error', { error: exception });
  return { status: 500, body: errorBody('internal_error', 'Internal server error') };
}

/** Answers with the one error body (and Retry-After for a rate limit); for middleware that runs outside Nest. */
export function sendErrorResponse(res: Response, exception: unknown): void {
  const { status, body } = toErrorResponse(exception);
  if (exception instanceof RateLimitError && exception.retryAfterSeconds !== undefined) {
    res.setHeader('Retry-After', String(Math.max(1, Math.ceil(exception.retryAfterSeconds))));
  }
  res.status(status).json(body);
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      // A stream (SSE) already started, or the request timed out and was answered: the only thing left is the end
      // (an unexpected error is still logged by toErrorResponse).
      toErrorResponse(exception);
      if (!res.writableEnded) res.end();
      return;
    }
    sendErrorResponse(res, exception);
  }
}
