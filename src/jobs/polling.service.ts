import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { BackgroundTaskManager, TickContext } from '../scheduling';
import { JobSyncService } from './job-sync.service';
import { PollingStatusView } from './jobs.view';
import { POLLING_TASK, PollingDecision, PollingSettingsService } from './polling-settings.service';

/**
 * Whether job status polling runs on this instance and why. PollingSettingsService decides (API preference, then
 * the enterprise flag, then the webhook rule); this service applies each decision to the polling task the moment it
 * is made, so a setting, a webhook change or another instance's change takes effect without a restart.
 */
@Injectable()
export class PollingService implements OnApplicationBootstrap {
  constructor(
    private readonly tasks: BackgroundTaskManager,
    private readonly settings: PollingSettingsService,
    private readonly sync: JobSyncService,
  ) {
    settings.onDecision((d) => this.follow(d));
  }

  /** The first decision needs the database; the task only acts on it once the app listens. */
  async onApplicationBootstrap(): Promise<void> {
    await this.settings.reevaluate();
  }

  async pollActiveJobs(tick: TickContext): Promise<void> {
    // Another instance may have changed the setting: never poll against the stored decision.
    const now = await this.settings.reevaluate();
    if (!now.enabled) return;
    await this.sync.syncActiveJobs(undefined, { tick });
  }

  /** Picks up a change made through another instance (there is no cross-instance notification for settings). */
  async refreshDecision(): Promise<void> {
    await this.settings.reevaluate();
  }

  async status(): Promise<PollingStatusView> {
    const d = await this.settings.decide();
    const state = this.tasks.getState(POLLING_TASK);
    return {
      is_active: state ? state.enabled && this.tasks.isStarted() : d.enabled,
      preference: d.preference,
      reason: d.reason,
      interval_seconds: state?.interval_seconds ?? d.intervalSeconds,
    };
  }

  async setPreference(enabled: boolean | null): Promise<PollingStatusView> {
    await this.settings.setPreference(enabled);
    return this.status();
  }

  private follow(d: PollingDecision): void {
    // A decision made before the manager has discovered the tasks has nothing to switch; bootstrap decides again.
    if (this.tasks.has(POLLING_TASK)) this.tasks.setEnabled(POLLING_TASK, d.enabled, d.reason);
  }
}
