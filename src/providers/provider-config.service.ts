import { Injectable } from '@nestjs/common';
import { ProviderConfig } from './provider-config.entity';
import { ProviderConfigRepository } from './provider-config.repository';

export interface ProviderConfigUpdate {
  webhook_url?: string | null;
  webhook_secret?: string | null;
  version_override?: string | null;
  hardware_info?: Record<string, unknown> | null;
}

type ChangeListener = (name: string, config: ProviderConfig) => void | Promise<void>;

/** Provider settings stored in the database (SPEC §4), read by providers, polling and the webhook verifier. */
@Injectable()
export class ProviderConfigService {
  private readonly listeners: ChangeListener[] = [];

  constructor(private readonly repo: ProviderConfigRepository) {}

  async get(name: string): Promise<ProviderConfig> {
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
  async update(name: string, patch: ProviderConfigUpdate): Promise<ProviderConfig> {
    const current = await this.get(name);
    if (patch.webhook_url !== undefined) current.webhookUrl = patch.webhook_url;
    if (patch.webhook_secret !== undefined) current.webhookSecret = patch.webhook_secret;
    if (patch.version_override !== undefined) current.versionOverride = patch.version_override;
    if (patch.hardware_info !== undefined) current.hardwareInfo = patch.hardware_info ?? {};
    const saved = await this.repo.save(current);
    for (const listener of this.listeners) await listener(name, saved);
    return saved;
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }
}
