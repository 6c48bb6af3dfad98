import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { BackgroundTaskManager } from '../scheduling/background-task-manager';
import { JobSyncService } from './job-sync.service';
import { POLLING_TASK, PollingDecision, PollingSettingsService } from './polling-settings.service';
import { WebhookService } from './webhook.service';

const log = getLogger('simpletuner.cloud.jobs.polling');
export const SIMULATOR_TASK = 'simulator_progress';
export const WEBHOOK_PURGE_TASK = 'webhook_deliveries_purge';
export const SETTINGS_REFRESH_TASK = 'job_polling_setting_refresh';

/**
 * Transport only: registers the polling task (SPEC §10) and the simulator's progress task with the task manager,
 * and follows the polling decision at run time. The work is JobSyncService.syncActiveJobs(now).
 */
@Injectable()
export class PollingScheduler implements OnApplicationBootstrap {
  constructor(
    private readonly tasks: BackgroundTaskManager,
    private readonly settings: PollingSettingsService,
    private readonly sync: JobSyncService,
    private readonly config: AppConfig,
    private readonly webhooks: WebhookService,
  ) {
    settings.onDecision((d) => this.follow(d));
  }

  async onApplicationBootstrap(): Promise<void> {
    const d = await this.settings.decide();
    this.tasks.registerInterval({
      name: POLLING_TASK,
      intervalSeconds: d.intervalSeconds,
      enabled: d.enabled,
      reason: d.reason,
      leader: true,
      run: async (ctx) => {
        // Another instance may have changed the setting: never poll against the stored decision.
        const now = await this.settings.reevaluate();
        if (!now.enabled) return;
        return this.sync.syncActiveJobs(new Date(), { tick: ctx });
      },
      onStart: (s) =>
        log.info('Starting job status polling', { interval_seconds: s.interval_seconds, reason: s.reason }),
      onStop: (s) => log.info('Stopped job status polling', { reason: s.reason }),
    });
    await this.settings.reevaluate();
    // The simulator advances its own jobs whether polling is on or not (SPEC §4).
    const step = this.config.env.SIMULATOR_STEP_SECONDS;
    this.tasks.registerInterval({
      name: SIMULATOR_TASK,
      intervalSeconds: Math.max(0.2, Math.min(1, step / 2)),
      reason: 'simulator jobs advance on their own',
      run: (ctx) => this.sync.syncActiveJobs(new Date(), { tick: ctx, providers: ['simulator'] }),
    });
    // A change made through another instance reaches this one within this period (SPEC §10, several instances).
    this.tasks.registerInterval({
      name: SETTINGS_REFRESH_TASK,
      intervalSeconds: Math.min(30, d.intervalSeconds),
      reason: 'follows polling setting changes made on other instances',
      run: () => this.settings.reevaluate(),
    });
    // Replay protection needs webhook ids for 24 h only.
    this.tasks.registerInterval({
      name: WEBHOOK_PURGE_TASK,
      intervalSeconds: 3600,
      leader: true,
      reason: 'webhook-id replay window is 24 h',
      run: () => this.webhooks.purgeDeliveries(),
    });
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
