import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { MetricsService } from '../metrics';

/** How a follow fetch ended: `ok` (the provider answered) or `failed`. */
export type FollowOutcome = 'ok' | 'failed';

/** The job logs' /metrics series, counted by this instance. */
@Injectable()
export class JobLogsMetrics {
  private readonly bytes: Counter;
  private readonly fetches: Counter<'outcome'>;

  constructor(private readonly metrics: MetricsService) {
    this.bytes = metrics.counter({
      name: 'simpletuner_job_log_bytes_total',
      help: "Bytes of job log text stored (after redaction), appended from providers' logs",
    });
    this.fetches = metrics.counter({
      name: 'simpletuner_job_log_follow_fetches_total',
      help: 'Provider fetches of followed jobs (a running job whose log somebody streams), by outcome',
      labelNames: ['outcome'],
    });
    for (const outcome of ['ok', 'failed'] as const) this.fetches.inc({ outcome }, 0);
  }

  stored(bytes: number): void {
    if (bytes > 0) this.bytes.inc(bytes);
  }

  fetched(outcome: FollowOutcome): void {
    this.fetches.inc({ outcome });
  }

  /** Open log streams on this instance, read at scrape time. */
  streamsGauge(count: () => number): void {
    this.metrics.gauge({
      name: 'simpletuner_job_log_streams',
      help: 'Open job log streams on this instance',
      collect() {
        this.set(count());
      },
    });
  }
}
