import { Inject, Injectable } from '@nestjs/common';
import { SettingsCache } from '../database/settings-cache';
import { Transactional } from '../database/transactional';
import { AUDIT_RECORDER, AuditActor, AuditRecorder } from '../common/audit';
import { ProviderConfig } from './provider-config.entity';
import { ProviderConfigRepository } from './provider-config.repository';

export interface ProviderConfigUpdate {
  webhook_url?: string | null;
  webhook_secret?: string | null;
  version_override?: string | null;
  hardware_info?: Record<string, unknown> | null;
}

/** The settings as the audit shows them: whether a webhook secret is set, never the secret. */
function auditView(c: ProviderConfig) {
  return {
    webhook_url: c.webhookUrl,
    webhook_secret_set: Boolean(c.webhookSecret),
    version_override: c.versionOverride,
    hardware_info: c.hardwareInfo ?? {},
  };
}

const cacheKey = (name: string) => `provider_config.${name}`;

type ChangeListener = (name: string, config: ProviderConfig) => void | Promise<void>;

/** Provider settings stored in the database, read by providers, polling and the webhook verifier. */
@Injectable()
export class ProviderConfigService {
  private readonly listeners: ChangeListener[] = [];

  constructor(
    private readonly repo: ProviderConfigRepository,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
    private readonly cache: SettingsCache,
  ) {}

  /** Every submit, poll and webhook reads these: each instance keeps them until they change (SettingsCache). */
  get(name: string): Promise<ProviderConfig> {
    return this.cache.get(cacheKey(name), () => this.load(name));
  }

  private async load(name: string): Promise<ProviderConfig> {
    const row = await this.repo.find(name);
    return (
      row ??
      Object.assign(new ProviderConfig(), {
        name,
        webhookUrl: null,
        webhookSecret: null,
        versionOverride: null,
        hardwareInfo: {},
      })
    );
  }

  /** Writes only the fields given (null clears one) and tells listeners (polling re-evaluates at once). */
  async update(name: string, patch: ProviderConfigUpdate, actor: AuditActor): Promise<ProviderConfig> {
    const saved = await this.store(name, patch, actor);
    for (const listener of this.listeners) await listener(name, saved);
    return saved;
  }

  /** The new settings and their audit row commit together. */
  @Transactional()
  private async store(name: string, patch: ProviderConfigUpdate, actor: AuditActor): Promise<ProviderConfig> {
    const current = await this.get(name);
    const before = auditView(current);
    if (patch.webhook_url !== undefined) current.webhookUrl = patch.webhook_url;
    if (patch.webhook_secret !== undefined) current.webhookSecret = patch.webhook_secret;
    if (patch.version_override !== undefined) current.versionOverride = patch.version_override;
    if (patch.hardware_info !== undefined) current.hardwareInfo = patch.hardware_info ?? {};
    const saved = await this.repo.save(current);
    await this.cache.changed(cacheKey(name));
    await this.audit.record({
      actor,
      action: 'provider_config.update',
      targetType: 'provider_config',
      targetId: name,
      orgId: null,
      before,
      after: auditView(saved),
    });
    return saved;
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }
}
