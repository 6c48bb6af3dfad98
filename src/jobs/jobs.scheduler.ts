import { Injectable } from '@nestjs/common';
import { getLogger } from '../logging';
import { Cron, Interval, TickContext } from '../scheduling';
import { JobRetentionService, RetentionSummary } from './job-retention.service';
import { JobSyncService } from './job-sync.service';
import { POLLING_TASK } from './polling-settings.service';
import { PollingService } from './polling.service';
import { WebhookService } from './webhook.service';

const log = getLogger('simpletuner.cloud.jobs.polling');
const SIMULATOR_TASK = 'simulator_progress';
const WEBHOOK_PURGE_TASK = 'webhook_deliveries_purge';
const SETTINGS_REFRESH_TASK = 'job_polling_setting_refresh';
const RETENTION_TASK = 'job_retention';

/** Transport only: the Jobs module's background tasks, each one call into a service. */
@Injectable()
export class JobsScheduler {
  constructor(
    private readonly polling: PollingService,
    private readonly sync: JobSyncService,
    private readonly webhooks: WebhookService,
    private readonly retention: JobRetentionService,
  ) {}

  // Off until PollingService applies the first decision at bootstrap; it switches the task at run time.
  @Interval(POLLING_TASK, (config) => config.enterprise.jobPollingInterval, {
    leader: true,
    enabled: false,
    onStart: (s) => log.info('Starting job status polling', { interval_seconds: s.interval_seconds, reason: s.reason }),
    onStop: (s) => log.info('Stopped job status polling', { reason: s.reason }),
  })
  pollJobStatus(tick: TickContext): Promise<void> {
    return this.polling.pollActiveJobs(tick);
  }

  // The simulator advances its own jobs whether polling is on or not.
  @Interval(SIMULATOR_TASK, (config) => Math.max(0.2, Math.min(1, config.env.SIMULATOR_STEP_SECONDS / 2)), {
    reason: 'simulator jobs advance on their own',
  })
  async advanceSimulator(tick: TickContext): Promise<void> {
    await this.sync.syncActiveJobs(undefined, { tick, providers: ['simulator'] });
  }

  // A change made through another instance reaches this one within this period.
  @Interval(SETTINGS_REFRESH_TASK, (config) => Math.min(30, config.enterprise.jobPollingInterval), {
    reason: 'follows polling setting changes made on other instances',
  })
  refreshPollingDecision(): Promise<void> {
    return this.polling.refreshDecision();
  }

  // Replay protection needs webhook ids for 24 h only.
  @Interval(WEBHOOK_PURGE_TASK, 3600, { leader: true, reason: 'webhook-id replay window is 24 h' })
  purgeWebhookDeliveries(): Promise<number> {
    return this.webhooks.purgeDeliveries();
  }

  // Daily, on one instance (the first to take the hour's lease): finished jobs past SIMPLETUNER_JOB_RETENTION_DAYS.
  @Cron('15 4 * * *', { name: RETENTION_TASK, timeZone: 'UTC', leaderLeaseSeconds: 3600 })
  purgeExpiredJobs(): Promise<RetentionSummary> {
    return this.retention.purgeExpired();
  }
}
