import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendErrorResponse } from '../../edge';
import { AppError, NotFoundError } from '../../common/errors';
import { getLogger } from '../../logging';
import { checkWebhookHeaders } from '../../common/standard-webhooks';

const log = getLogger('simpletuner.cloud.jobs.webhooks');

/**
 * Before the webhook body is read: without Replicate there is nothing to receive (404); without well-formed
 * Standard-Webhooks headers there is nothing to verify (401). Either way the answer costs no body read, no secret
 * fetch and no database work, and the connection is closed so an unread upload stops.
 */
export function webhookPreflight(isConfigured: () => boolean, maxBytes: number): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST') return next();
    let refusal: Error | null = null;
    if (!isConfigured()) {
      refusal = new NotFoundError('Replicate is not configured on this service');
    } else {
      try {
        checkWebhookHeaders(req.headers);
        // The body parser would answer 413 only after draining the whole upload: refuse the declared size now.
        if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
          refusal = new AppError('payload_too_large', 413, `Webhook body is larger than ${maxBytes} bytes`);
        }
      } catch (err) {
        refusal = err as Error;
      }
      if (refusal) log.warning('Rejected a webhook before reading its body', { reason: refusal.message });
    }
    if (!refusal) return next();
    res.setHeader('Connection', 'close');
    sendErrorResponse(res, refusal);
  };
}
