import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { ProviderConfigService } from '../providers';
import { SettingsService } from '../settings';

const log = getLogger('simpletuner.cloud.jobs.polling');
const POLLING_SETTING_KEY = 'job_status_polling.enabled';
export const POLLING_TASK = 'job_status_polling';

export interface PollingDecision {
  enabled: boolean;
  /** The API's stored preference (null = none: the enterprise flag or the auto rule decides). */
  preference: boolean | null;
  reason: string;
  intervalSeconds: number;
}

type DecisionListener = (d: PollingDecision) => void;

/**
 * SPEC §10 (and §1 precedence): a preference stored through the API wins, else the enterprise flag, else auto =
 * enabled exactly when the replicate provider has no webhook_url. Re-evaluated when either changes.
 */
@Injectable()
export class PollingSettingsService {
  private listeners: DecisionListener[] = [];
  private last: PollingDecision | null = null;

  constructor(
    private readonly settings: SettingsService,
    private readonly config: AppConfig,
    private readonly providerConfigs: ProviderConfigService,
  ) {
    providerConfigs.onChange((name) => (name === 'replicate' ? this.reevaluate().then(() => undefined) : undefined));
  }

  async preference(): Promise<boolean | null> {
    const v = await this.settings.get(POLLING_SETTING_KEY);
    return typeof v === 'boolean' ? v : null;
  }

  async setPreference(enabled: boolean | null): Promise<PollingDecision> {
    await this.settings.set(POLLING_SETTING_KEY, enabled);
    log.info(`Job polling preference set to ${enabled === null ? 'default' : enabled}`, { preference: enabled });
    return this.reevaluate();
  }

  async decide(): Promise<PollingDecision> {
    const intervalSeconds = this.config.enterprise.jobPollingInterval;
    const preference = await this.preference();
    if (preference !== null) {
      return {
        enabled: preference,
        preference,
        intervalSeconds,
        reason: `setting: ${preference ? 'enabled' : 'disabled'} through the API`,
      };
    }
    const flag = this.config.enterprise.jobPollingEnabled;
    if (flag !== undefined && flag !== null) {
      return {
        enabled: flag,
        preference,
        intervalSeconds,
        reason: `config: ${flag ? 'enabled' : 'disabled'} in enterprise config`,
      };
    }
    const webhook = (await this.providerConfigs.get('replicate')).webhookUrl;
    return webhook
      ? { enabled: false, preference, intervalSeconds, reason: 'auto: webhook configured' }
      : { enabled: true, preference, intervalSeconds, reason: 'auto: no webhook configured' };
  }

  /** Decides again and tells the scheduler at once (no restart). */
  async reevaluate(): Promise<PollingDecision> {
    const d = await this.decide();
    const before = this.last;
    this.last = d;
    if (
      d.enabled &&
      d.reason.startsWith('auto: no webhook') &&
      (!before || !before.enabled || before.reason !== d.reason)
    ) {
      log.info('Auto-enabling job polling (no webhook configured)', { interval_seconds: d.intervalSeconds });
    }
    for (const l of this.listeners) l(d);
    return d;
  }

  current(): PollingDecision | null {
    return this.last;
  }

  onDecision(listener: DecisionListener): void {
    this.listeners.push(listener);
  }
}
