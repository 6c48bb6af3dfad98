import { Injectable, OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock';
import { MetricsService } from '../metrics';
import { QuotaMeter } from './quota-meter.service';
import { QuotasService } from './quotas.service';
import { SpendRepository } from './spend.repository';

/**
 * Spend series, read from the database at scrape time so that every instance reports the same: actual cost by
 * provider and profile, and how full each active quota is (a global or level quota: its fullest user).
 */
@Injectable()
export class QuotasMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly spend: SpendRepository,
    private readonly quotas: QuotasService,
    private readonly meter: QuotaMeter,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    const { spend, quotas, meter, clock } = this;
    this.metrics.gauge({
      name: 'simpletuner_cost_usd_total',
      help: 'Actual cost of jobs whose cost is known (US dollars), by provider and hardware profile',
      labelNames: ['provider', 'hardware_profile'],
      async collect() {
        this.reset();
        for (const r of await spend.costTotals())
          this.set({ provider: r.provider, hardware_profile: r.hardware_profile }, r.cost);
      },
    });
    this.metrics.gauge({
      name: 'simpletuner_quota_used_ratio',
      help: 'Used / limit of each active quota in its current window (global and level quotas: the fullest user)',
      labelNames: ['quota_id', 'type'],
      async collect() {
        this.reset();
        const now = clock.now();
        for (const q of await quotas.active())
          this.set({ quota_id: q.id, type: q.type }, (await meter.used(q, now)) / q.limit);
      },
    });
  }
}
