import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { SealedValue } from '../secrets';

/** Per-provider settings changed through the API: webhook, version override, price overrides. */
@Entity('provider_configs')
export class ProviderConfig {
  @PrimaryColumn('text')
  name: string;

  @Column('text', { nullable: true })
  webhookUrl: string | null;

  /** A secret stored before secrets were sealed: sealed into webhookSecretSealed at boot, then null. */
  @Column('text', { nullable: true })
  webhookSecret: string | null;

  /** The webhook signing secret, sealed. Write-only through the API: never returned, never logged. */
  @Column('jsonb', { nullable: true })
  webhookSecretSealed: SealedValue | null;

  /** The secret a rotation replaced, sealed: still accepted until previousWebhookSecretUntil. */
  @Column('jsonb', { nullable: true })
  previousWebhookSecret: SealedValue | null;

  @Column('timestamptz', { nullable: true })
  previousWebhookSecretUntil: Date | null;

  /** The provider's API token set through the API, sealed; wins over the environment's until deleted. */
  @Column('jsonb', { nullable: true })
  apiToken: SealedValue | null;

  @Column('text', { nullable: true })
  versionOverride: string | null;

  @Column('jsonb', { default: {} })
  hardwareInfo: Record<string, unknown>;

  /** Where webhooks may come from (addresses or CIDR ranges; empty = anywhere). */
  @Column('text', { array: true, default: () => "'{}'" })
  webhookAllowedIps: string[];

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
