import { Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../metrics';

/** Delivery outcomes by channel kind, and how long each attempt took. */
@Injectable()
export class NotificationsMetrics {
  private readonly outcomes: Counter<'kind' | 'outcome'>;
  private readonly latency: Histogram<'kind'>;

  constructor(metrics: MetricsService) {
    this.outcomes = metrics.counter({
      name: 'simpletuner_notification_deliveries_total',
      help: 'Notification delivery attempts by channel kind and outcome (succeeded, retry: will be tried again, failed)',
      labelNames: ['kind', 'outcome'],
    });
    this.latency = metrics.histogram({
      name: 'simpletuner_notification_delivery_duration_seconds',
      help: 'Duration of notification delivery attempts by channel kind',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
  }

  delivered(kind: string, outcome: string, durationMs: number): void {
    this.outcomes.inc({ kind, outcome });
    this.latency.observe({ kind }, durationMs / 1000);
  }
}
