import { Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics';
import { QueueRepository } from './queue.repository';

/** /metrics: queue depth and held slots, read from the database at scrape time (every instance agrees). */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    private readonly repo: QueueRepository,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const repo = this.repo;
    this.metrics.gauge({
      name: 'simpletuner_queue_depth',
      help: 'Queue entries by status (pending = waiting for a slot, blocked = awaiting approval)',
      labelNames: ['status'],
      async collect() {
        const counts = await repo.countsByStatus();
        this.reset();
        for (const s of ['pending', 'blocked', 'dispatching', 'running']) this.set({ status: s }, counts[s] ?? 0);
      },
    });
  }
}
