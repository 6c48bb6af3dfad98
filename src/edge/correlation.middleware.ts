import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { ClsServiceManager } from 'nestjs-cls';
import { getLogger } from '../logging';
import {
  CLS_CLIENT_IP,
  CLS_CORRELATION_ID,
  CLS_TRACEPARENT,
  generateCorrelationId,
  isValidCorrelationId,
  runWithCorrelationId,
  TraceContext,
} from '../context';

const log = getLogger('simpletuner.cloud.http');
/** Parser and socket errors that mean the client went away, not that it sent something malformed. */
const CLIENT_LEFT = ['ECONNRESET', 'EPIPE', 'HPE_INVALID_EOF_STATE'];
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** W3C trace context: version ff and all-zero ids are invalid (and then ignored). */
function parseTraceparent(value: unknown): TraceContext | null {
  if (typeof value !== 'string') return null;
  const match = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!match || match[1] === 'ff' || /^0+$/.test(match[2]) || /^0+$/.test(match[3])) return null;
  return { traceId: match[2], parentId: match[3], flags: match[4] };
}

/**
 * Opens the request's context before anything else runs (body parsing included, so its errors carry
 * the id too): a valid X-Correlation-ID is kept, anything else is replaced by a generated id.
 */
export function correlationMiddleware(req: Request, res: Response, next: NextFunction): void {
  const cls = ClsServiceManager.getClsService();
  cls.run({ ifNested: 'override' }, () => {
    const header = req.headers['x-correlation-id'];
    const valid = isValidCorrelationId(header);
    const id = valid ? header : generateCorrelationId();
    cls.set(CLS_CORRELATION_ID, id);
    const trace = parseTraceparent(req.headers.traceparent);
    if (trace) cls.set(CLS_TRACEPARENT, trace);
    // express's req.ip: the TCP peer, or the X-Forwarded-For hop the trusted proxies vouch for.
    cls.set(CLS_CLIENT_IP, req.ip ?? null);
    res.setHeader('X-Correlation-ID', id);
    if (header !== undefined && !valid) {
      // Never echo the raw bytes: they may carry newlines, secrets or be huge. Length says enough.
      log.warning('Replaced an invalid X-Correlation-ID header', {
        header_length: Array.isArray(header) ? header.join(',').length : String(header).length,
        repeated: Array.isArray(header),
      });
    }
    next();
  });
}

/**
 * A request Node's HTTP parser refuses (e.g. a newline inside X-Correlation-ID) never reaches express. Answer it
 * like any other error (the one error body, a fresh X-Correlation-ID) and log it without the raw packet.
 */
export function installClientErrorHandler(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A client that left: a reset, or the end of its connection inside a request (an upload it gave up on).
    if (!socket.writable || (err.code !== undefined && CLIENT_LEFT.includes(err.code))) {
      socket.destroy();
      return;
    }
    const id = generateCorrelationId();
    runWithCorrelationId(id, () =>
      log.warning('Rejected a malformed HTTP request', {
        error_code: err.code ?? null,
        bytes: (err as { bytesParsed?: number }).bytesParsed ?? null,
      }),
    );
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const status = timeout ? 408 : 400;
    const body = JSON.stringify({
      error: timeout ? 'request_timeout' : 'validation_error',
      message: timeout ? 'Request timed out' : 'Malformed HTTP request',
      correlation_id: id,
    });
    socket.end(
      `HTTP/1.1 ${status} ${timeout ? 'Request Timeout' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Correlation-ID: ${id}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
