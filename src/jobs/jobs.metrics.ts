import { Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics';
import { ACTIVE_STATUSES, JOB_STATUSES } from '../common/job-status';
import { JobsRepository } from './jobs.repository';

/**
 * The /metrics series owned by the jobs module, read from the database at scrape time so that several instances
 * report the same numbers: jobs by status and active jobs (the circuit-breaker state is the HTTP module's).
 */
@Injectable()
export class JobsMetrics implements OnModuleInit {
  constructor(
    private readonly repo: JobsRepository,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const repo = this.repo;
    // prom-client collects every metric concurrently: both gauges await one shared query per scrape.
    let pending: { at: number; counts: Promise<Map<string, number>> } | null = null;
    const counts = () => {
      if (!pending || Date.now() - pending.at > 250) {
        pending = {
          at: Date.now(),
          counts: repo.countByStatus(),
        };
      }
      return pending.counts;
    };
    this.metrics.gauge({
      name: 'simpletuner_jobs_total',
      help: 'Jobs stored, by status',
      labelNames: ['status'],
      async collect() {
        const c = await counts();
        for (const s of JOB_STATUSES) this.set({ status: s }, c.get(s) ?? 0);
      },
    });
    this.metrics.gauge({
      name: 'simpletuner_jobs_active',
      help: 'Jobs pending, uploading, queued or running',
      async collect() {
        const c = await counts();
        this.set(ACTIVE_STATUSES.reduce((sum, s) => sum + (c.get(s) ?? 0), 0));
      },
    });
  }
}
