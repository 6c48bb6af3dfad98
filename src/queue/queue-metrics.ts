import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service';

/** SPEC §10 /metrics: queue depth and held slots, read from the database at scrape time (every instance agrees). */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  onModuleInit(): void {
    if (!this.metrics) return;
    const db = this.db;
    this.metrics.gauge({
      name: 'simpletuner_queue_depth',
      help: 'Queue entries by status (pending = waiting for a slot, blocked = awaiting approval)',
      labelNames: ['status'],
      async collect() {
        const rows: { status: string; n: number }[] = await db.query(
          `SELECT status, count(*)::int AS n FROM queue_entries WHERE status IN ('pending', 'blocked', 'dispatching', 'running') GROUP BY status`,
        );
        this.reset();
        for (const s of ['pending', 'blocked', 'dispatching', 'running'])
          this.set({ status: s }, rows.find((r) => r.status === s)?.n ?? 0);
      },
    });
  }
}
