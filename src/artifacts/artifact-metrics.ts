import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { MetricsService } from '../metrics';

/** How a copy attempt ended: `stored`, `retried` (another try is scheduled) or `failed` (for good). */
export type CopyOutcome = 'stored' | 'retried' | 'failed';

/** The artifacts' /metrics series, counted by this instance. */
@Injectable()
export class ArtifactMetrics {
  private readonly copies: Counter<'outcome'>;
  private readonly bytes: Counter;

  constructor(metrics: MetricsService) {
    this.copies = metrics.counter({
      name: 'simpletuner_artifact_copies_total',
      help: 'Output copy attempts by outcome (an untrusted source counts as failed without a fetch)',
      labelNames: ['outcome'],
    });
    this.bytes = metrics.counter({ name: 'simpletuner_artifact_bytes_total', help: 'Bytes of outputs stored' });
    for (const outcome of ['stored', 'retried', 'failed'] as const) this.copies.inc({ outcome }, 0);
  }

  copied(outcome: CopyOutcome, bytes = 0): void {
    this.copies.inc({ outcome });
    if (bytes > 0) this.bytes.inc(bytes);
  }
}
