import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Counter, Histogram } from 'prom-client';
import { ApiLoad } from './api-load';
import { MetricsService } from './metrics.service';

/**
 * Times and counts every HTTP request (the count also feeds ApiLoad). The `route` label is the matched route pattern (`/api/cloud/jobs/:id`), never the
 * raw path, so ids and probes of unknown URLs cannot blow up the series count.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  private readonly total: Counter<'method' | 'route' | 'status'>;

  constructor(
    metrics: MetricsService,
    private readonly load: ApiLoad,
  ) {
    this.duration = metrics.histogram({
      name: 'simpletuner_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.total = metrics.counter({
      name: 'simpletuner_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    this.load.began();
    // 'close' also fires for aborted requests and long-lived streams (SSE), which 'finish' may never see.
    res.once('close', () => {
      const labels = { method: req.method, route: routeOf(req), status: String(res.statusCode) };
      this.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      this.total.inc(labels);
    });
    next();
  }
}

function routeOf(req: Request): string {
  // Express types `req.route` as any.
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  // Nest's not-found handler is a catch-all route (`/{*splat}`): report it, and any wildcard, as unmatched.
  if (typeof pattern === 'string' && !pattern.includes('*')) return (req.baseUrl ?? '') + pattern;
  return 'unmatched';
}
