import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { getLogger } from '../logging';
import { BackgroundTaskManager, Interval, TickContext } from '../scheduling';
import { JobSyncService } from './job-sync.service';
import { POLLING_TASK, PollingDecision, PollingSettingsService } from './polling-settings.service';
import { WebhookService } from './webhook.service';

const log = getLogger('simpletuner.cloud.jobs.polling');
export const SIMULATOR_TASK = 'simulator_progress';
export const WEBHOOK_PURGE_TASK = 'webhook_deliveries_purge';
export const SETTINGS_REFRESH_TASK = 'job_polling_setting_refresh';

/**
 * Transport only: the polling task and the simulator's progress task, and the polling decision followed at run
 * time. The work is JobSyncService.syncActiveJobs(now).
 */
@Injectable()
export class PollingScheduler implements OnApplicationBootstrap {
  constructor(
    private readonly tasks: BackgroundTaskManager,
    private readonly settings: PollingSettingsService,
    private readonly sync: JobSyncService,
    private readonly webhooks: WebhookService,
  ) {
    settings.onDecision((d) => this.follow(d));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.settings.reevaluate();
  }

  // Off until the first decision at bootstrap, which the tasks only act on once the app listens.
  @Interval(POLLING_TASK, (config) => config.enterprise.jobPollingInterval, {
    leader: true,
    enabled: false,
    onStart: (s) => log.info('Starting job status polling', { interval_seconds: s.interval_seconds, reason: s.reason }),
    onStop: (s) => log.info('Stopped job status polling', { reason: s.reason }),
  })
  async poll(tick: TickContext): Promise<void> {
    // Another instance may have changed the setting: never poll against the stored decision.
    const now = await this.settings.reevaluate();
    if (!now.enabled) return;
    await this.sync.syncActiveJobs(new Date(), { tick });
  }

  // The simulator advances its own jobs whether polling is on or not.
  @Interval(SIMULATOR_TASK, (config) => Math.max(0.2, Math.min(1, config.env.SIMULATOR_STEP_SECONDS / 2)), {
    reason: 'simulator jobs advance on their own',
  })
  async advanceSimulator(tick: TickContext): Promise<void> {
    await this.sync.syncActiveJobs(new Date(), { tick, providers: ['simulator'] });
  }

  // A change made through another instance reaches this one within this period.
  @Interval(SETTINGS_REFRESH_TASK, (config) => Math.min(30, config.enterprise.jobPollingInterval), {
    reason: 'follows polling setting changes made on other instances',
  })
  async refreshSetting(): Promise<void> {
    await this.settings.reevaluate();
  }

  // Replay protection needs webhook ids for 24 h only.
  @Interval(WEBHOOK_PURGE_TASK, 3600, { leader: true, reason: 'webhook-id replay window is 24 h' })
  purgeWebhookDeliveries(): Promise<number> {
    return this.webhooks.purgeDeliveries();
  }

  private follow(d: PollingDecision): void {
    if (this.tasks.has(POLLING_TASK)) this.tasks.setEnabled(POLLING_TASK, d.enabled, d.reason);
  }

  async status() {
    const d = await this.settings.decide();
    const state = this.tasks.getState(POLLING_TASK);
    return {
      is_active: state ? state.enabled && this.tasks.isStarted() : d.enabled,
      preference: d.preference,
      reason: d.reason,
      interval_seconds: state?.interval_seconds ?? d.intervalSeconds,
    };
  }

  async setPreference(enabled: boolean | null) {
    await this.settings.setPreference(enabled);
    return this.status();
  }
}
