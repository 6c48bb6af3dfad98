import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { Public } from '../auth/auth.decorators';
import { WebhookService } from './webhook.service';

/**
 * `POST /api/webhooks/replicate`: no API key, a Standard-Webhooks signature instead. The app factory gives this
 * path the raw body (up to 10 MiB) so the signature is checked over the exact bytes; no DTO, unknown fields allowed.
 */
@Controller('api/webhooks')
export class WebhookController {
  constructor(private readonly webhooks: WebhookService) {}

  @Post('replicate')
  @Public()
  @HttpCode(200)
  async replicate(@Req() req: Request) {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const result = await this.webhooks.handleReplicate(req.headers, body);
    return { ok: true, ...result };
  }
}
