import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth';
import { NoRateLimit } from '../rate-limits';
import { MetricsService } from './metrics.service';

/** Prometheus scrape endpoint; public like /health so a scraper needs no API key. */
@ApiTags('Health')
@Controller()
@Public()
@NoRateLimit()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description: 'Jobs by status, queue depth, background task runs, SSE connections, HTTP timings, provider calls.',
  })
  @ApiOkResponse({
    description: 'Prometheus text exposition format',
    content: { 'text/plain': { schema: { type: 'string' }, example: 'simpletuner_queue_depth 3\n' } },
  })
  async scrape(@Res() res: Response): Promise<void> {
    const body = await this.metrics.render();
    res.setHeader('Content-Type', this.metrics.contentType);
    res.end(body); // not send(): it would rewrite the content type prom-client chose
  }
}
