import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AuditActor } from '../common/audit';
import { Clock } from '../common/clock';
import { AppConfig } from '../config';
import { SecretBox } from '../secrets';
import type { ProviderConfig } from './provider-config.entity';
import { ProviderConfigService } from './provider-config.service';

export type TokenSource = 'stored' | 'env' | 'none';

/** A provider's webhook signing secrets now: the current one, and the one a rotation replaced while it overlaps. */
export interface WebhookSecrets {
  current: string | null;
  previous: string | null;
}

/**
 * A provider's credentials set through the API, sealed at rest with the service's secret key: its API token (which
 * wins over REPLICATE_API_TOKEN until deleted) and its webhook signing secret, rotated with an overlap in which the
 * replaced one still verifies. Plain values never leave this service except to the provider's own client.
 */
@Injectable()
export class ProviderCredentialsService {
  constructor(
    private readonly configs: ProviderConfigService,
    private readonly box: SecretBox,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** The token from the environment (Replicate's only). */
  private envToken(name: string): string | undefined {
    return name === 'replicate' ? this.config.env.REPLICATE_API_TOKEN : undefined;
  }

  async token(name: string): Promise<{ token: string | undefined; source: TokenSource }> {
    const c = await this.configs.get(name);
    if (c.apiToken) return { token: this.box.open(c.apiToken), source: 'stored' };
    const env = this.envToken(name);
    return { token: env, source: env ? 'env' : 'none' };
  }

  tokenSourceOf(c: ProviderConfig): TokenSource {
    if (c.apiToken) return 'stored';
    return this.envToken(c.name) ? 'env' : 'none';
  }

  setToken(name: string, token: string, actor: AuditActor): Promise<ProviderConfig> {
    this.configs.requireSealing('token');
    return this.configs.change(name, actor, 'provider_token.set', (c) => (c.apiToken = this.box.seal(token)));
  }

  clearToken(name: string, actor: AuditActor): Promise<ProviderConfig> {
    return this.configs.change(name, actor, 'provider_token.delete', (c) => (c.apiToken = null));
  }

  async webhookSecrets(name: string, now = this.clock.now()): Promise<WebhookSecrets> {
    const c = await this.configs.get(name);
    const current = c.webhookSecretSealed ? this.box.open(c.webhookSecretSealed) : c.webhookSecret;
    const overlapping =
      c.previousWebhookSecret && c.previousWebhookSecretUntil && c.previousWebhookSecretUntil.getTime() > now.getTime();
    return { current, previous: overlapping ? this.box.open(c.previousWebhookSecret!) : null };
  }

  /**
   * A new signing secret (Standard Webhooks `whsec_` + 24 random bytes), returned once; the one it replaces keeps
   * verifying for `overlapHours` (when there was one).
   */
  async rotateWebhookSecret(
    name: string,
    overlapHours: number,
    actor: AuditActor,
  ): Promise<{ secret: string; previousValidUntil: Date | null }> {
    this.configs.requireSealing('webhook_secret');
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const until = new Date(this.clock.now().getTime() + overlapHours * 3_600_000);
    const saved = await this.configs.change(name, actor, 'provider_webhook_secret.rotate', (c) => {
      const replaced = c.webhookSecretSealed ?? (c.webhookSecret ? this.box.seal(c.webhookSecret) : null);
      c.previousWebhookSecret = replaced && overlapHours > 0 ? replaced : null;
      c.previousWebhookSecretUntil = c.previousWebhookSecret ? until : null;
      c.webhookSecretSealed = this.box.seal(secret);
      c.webhookSecret = null;
    });
    return { secret, previousValidUntil: saved.previousWebhookSecretUntil };
  }
}
