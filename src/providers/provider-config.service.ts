import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SettingsCache } from '../database/settings-cache';
import { Transactional } from '../database/transactional';
import { AUDIT_RECORDER, AuditActor, AuditRecorder } from '../common/audit';
import { ValidationError } from '../common/errors';
import { getLogger } from '../logging';
import { SecretBox } from '../secrets';
import { ProviderConfig } from './provider-config.entity';
import { ProviderConfigRepository } from './provider-config.repository';

const log = getLogger('simpletuner.cloud.providers');

export interface ProviderConfigUpdate {
  webhook_url?: string | null;
  webhook_secret?: string | null;
  version_override?: string | null;
  hardware_info?: Record<string, unknown> | null;
  webhook_allowed_ips?: string[] | null;
}

/** The settings as the audit shows them: whether a secret or token is set, never what it is. */
function auditView(c: ProviderConfig) {
  return {
    webhook_url: c.webhookUrl,
    webhook_secret_set: Boolean(c.webhookSecretSealed ?? c.webhookSecret),
    api_token_set: Boolean(c.apiToken),
    version_override: c.versionOverride,
    hardware_info: c.hardwareInfo ?? {},
    webhook_allowed_ips: c.webhookAllowedIps ?? [],
  };
}

const providerConfigCacheKey = (name: string) => `provider_config.${name}`;

type ChangeListener = (name: string, config: ProviderConfig) => void | Promise<void>;

/** Provider settings stored in the database, read by providers, polling and the webhook verifier. */
@Injectable()
export class ProviderConfigService implements OnApplicationBootstrap {
  private readonly listeners: ChangeListener[] = [];

  constructor(
    private readonly repo: ProviderConfigRepository,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
    private readonly cache: SettingsCache,
    private readonly box: SecretBox,
  ) {}

  /** Every submit, poll and webhook reads these: each instance keeps them until they change (SettingsCache). */
  get(name: string): Promise<ProviderConfig> {
    return this.cache.get(providerConfigCacheKey(name), () => this.load(name));
  }

  private async load(name: string): Promise<ProviderConfig> {
    const row = await this.repo.find(name);
    return (
      row ??
      Object.assign(new ProviderConfig(), {
        name,
        webhookUrl: null,
        webhookSecret: null,
        webhookSecretSealed: null,
        previousWebhookSecret: null,
        previousWebhookSecretUntil: null,
        apiToken: null,
        versionOverride: null,
        hardwareInfo: {},
        webhookAllowedIps: [],
      })
    );
  }

  /** Writes only the fields given (null clears one) and tells listeners (polling re-evaluates at once). */
  update(name: string, patch: ProviderConfigUpdate, actor: AuditActor): Promise<ProviderConfig> {
    if (patch.webhook_secret) this.requireSealing('webhook_secret');
    return this.change(name, actor, 'provider_config.update', (current) => {
      if (patch.webhook_url !== undefined) current.webhookUrl = patch.webhook_url;
      if (patch.webhook_secret !== undefined) {
        current.webhookSecretSealed = patch.webhook_secret === null ? null : this.box.seal(patch.webhook_secret);
        current.webhookSecret = null;
      }
      if (patch.version_override !== undefined) current.versionOverride = patch.version_override;
      if (patch.hardware_info !== undefined) current.hardwareInfo = patch.hardware_info ?? {};
      if (patch.webhook_allowed_ips !== undefined) current.webhookAllowedIps = patch.webhook_allowed_ips ?? [];
    });
  }

  /** Changes the settings with `mutate`, recorded in the audit as `action`; listeners hear of it after. */
  async change(
    name: string,
    actor: AuditActor,
    action: string,
    mutate: (current: ProviderConfig) => void,
  ): Promise<ProviderConfig> {
    const saved = await this.store(name, actor, action, mutate);
    for (const listener of this.listeners) await listener(name, saved);
    return saved;
  }

  /** 400 when a secret must be stored but the service has no key to seal it with. */
  requireSealing(field: string): void {
    if (!this.box.canSeal)
      throw new ValidationError(`${field} cannot be stored: set SIMPLETUNER_SECRET_KEY`, {
        [field]: 'no secret key to encrypt it with (SIMPLETUNER_SECRET_KEY)',
      });
  }

  /** The new settings and their audit row commit together. */
  @Transactional()
  private async store(
    name: string,
    actor: AuditActor,
    action: string,
    mutate: (current: ProviderConfig) => void,
  ): Promise<ProviderConfig> {
    const current = await this.get(name);
    const before = auditView(current);
    mutate(current);
    const saved = await this.repo.save(current);
    await this.cache.changed(providerConfigCacheKey(name));
    await this.audit.record({
      actor,
      action,
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

  /** Calls `fn` when provider `name`'s settings change on any instance. */
  watch(name: string, fn: () => void): void {
    this.cache.watch(providerConfigCacheKey(name), fn);
  }

  /** Webhook secrets stored in plain text before secrets were sealed are sealed now (once the key allows it). */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.box.canSeal) return;
    const sealed = await this.repo.sealPlainWebhookSecrets((plain) => this.box.seal(plain));
    for (const name of sealed) {
      await this.cache.changed(providerConfigCacheKey(name));
      log.info(`Encrypted the stored webhook secret of provider ${name}`, { provider: name });
    }
  }
}
