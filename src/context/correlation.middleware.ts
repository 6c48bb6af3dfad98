import type { NextFunction, Request, Response } from 'express';
import { ClsServiceManager } from 'nestjs-cls';
import { getLogger } from '../logging';
import { CLS_CORRELATION_ID, CLS_TRACEPARENT, generateCorrelationId, isValidCorrelationId } from './correlation';

const log = getLogger('simpletuner.cloud.http');
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

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
    const traceparent = req.headers.traceparent;
    if (typeof traceparent === 'string') {
      const match = TRACEPARENT.exec(traceparent.trim().toLowerCase());
      if (match && match[2] !== '0'.repeat(32)) cls.set(CLS_TRACEPARENT, { traceId: match[2], parentId: match[3], flags: match[4] });
    }
    res.setHeader('X-Correlation-ID', id);
    if (header !== undefined && !valid) {
      // Never echo the raw bytes: they may carry newlines or be huge.
      log.warning('Replaced an invalid X-Correlation-ID header', {
        header_length: Array.isArray(header) ? header.join(',').length : String(header).length,
      });
    }
    next();
  });
}
