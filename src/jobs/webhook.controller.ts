import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../auth';
import { ApiErrors } from '../openapi';
import { NoRateLimit } from '../rate-limits';
import { WebhookReceiptView } from './jobs.view';
import { WebhookService } from './webhook.service';

/**
 * `POST /api/webhooks/replicate`: no API key, a Standard-Webhooks signature instead. The app factory gives this
 * path the raw body (up to 10 MiB) so the signature is checked over the exact bytes; no DTO, unknown fields allowed.
 */
@ApiTags('Providers')
@Controller('api/webhooks')
export class WebhookController {
  constructor(private readonly webhooks: WebhookService) {}

  @Post('replicate')
  @Public()
  // Limited per address at the edge, before its body is read (webhookRateLimit), on its own allowance.
  @NoRateLimit()
  @HttpCode(200)
  @ApiOperation({
    summary: "Receive Replicate's prediction webhook",
    description:
      'Signed with Standard Webhooks instead of an API key; 404 when the service has no Replicate token; 403 from ' +
      "a client address outside the provider config's `webhook_allowed_ips`. A " +
      '`webhook-id` seen in the last 24 h is acknowledged and not applied again. Bodies up to 10 MiB.',
  })
  @ApiHeader({ name: 'webhook-id', required: true, description: 'Unique per message' })
  @ApiHeader({ name: 'webhook-timestamp', required: true, description: 'Unix seconds, within 5 minutes of now' })
  @ApiHeader({
    name: 'webhook-signature',
    required: true,
    description: '`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, space-separated when several',
  })
  @ApiBody({
    description: 'A Replicate prediction (other fields are accepted and ignored)',
    schema: {
      type: 'object',
      required: ['id', 'status'],
      additionalProperties: true,
      properties: {
        id: { type: 'string', example: 'ufawqhfynnddngldkgtslldrkq' },
        status: { type: 'string', example: 'succeeded' },
        input: { type: 'object', additionalProperties: true, properties: { job_id: { type: 'string' } } },
        metrics: { type: 'object', additionalProperties: true, properties: { predict_time: { type: 'number' } } },
      },
    },
  })
  @ApiOkResponse({ type: WebhookReceiptView })
  @ApiErrors(
    'validation_error',
    'invalid_signature',
    'not_found',
    'payload_too_large',
    'provider_unavailable',
    'request_timeout',
    'rate_limit_exceeded',
    'permission_denied',
  )
  async replicate(@Req() req: Request): Promise<WebhookReceiptView> {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const result = await this.webhooks.handleReplicate(req.headers, body);
    return { ok: true, ...result };
  }
}
