import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../src/config';
import type { EndedJob, JobEndedStep } from '../../src/jobs';
import { getLogger } from '../../src/logging';
import { onpremSettings } from './onprem-settings';

const log = getLogger('simpletuner.cloud.enterprise.chargeback');

/**
 * Adds up what each organisation's finished jobs cost, for a monthly chargeback. As a step of the job-ended pipeline
 * (named in main.ts's `jobEndedSteps`) it sees every job that ends (webhook, poll or cancel), once, inside the
 * transaction that ended it.
 */
@Injectable()
export class ChargebackService implements JobEndedStep {
  private readonly totals = new Map<string, { jobs: number; usd: number }>();
  private readonly rate: number;

  constructor(config: AppConfig) {
    this.rate = onpremSettings(config).chargeback_rate;
  }

  onJobsEnded(ended: EndedJob[]): Promise<void> {
    for (const { job } of ended) {
      if (job.status !== 'completed') continue;
      const org = job.orgId ?? 'none';
      const total = this.totals.get(org) ?? { jobs: 0, usd: 0 };
      total.jobs += 1;
      total.usd += Number(job.costUsd ?? 0) * this.rate;
      this.totals.set(org, total);
    }
    return Promise.resolve();
  }

  /** Totals so far, by organisation id. */
  report(): Record<string, { jobs: number; usd: number }> {
    return Object.fromEntries(this.totals);
  }

  /** What the monthly task does: log the totals (a real build would mail them), then start a new month. */
  closeMonth(): number {
    const orgs = this.totals.size;
    log.info('Chargeback month closed', { orgs, totals: this.report() });
    this.totals.clear();
    return orgs;
  }
}
