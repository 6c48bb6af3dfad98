import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Per-provider settings changed through the API: webhook, version override, price overrides. */
@Entity('provider_configs')
export class ProviderConfig {
  @PrimaryColumn('text')
  name: string;

  @Column('text', { nullable: true })
  webhookUrl: string | null;

  /** Write-only through the API: never returned, never logged. */
  @Column('text', { nullable: true })
  webhookSecret: string | null;

  @Column('text', { nullable: true })
  versionOverride: string | null;

  @Column('jsonb', { default: {} })
  hardwareInfo: Record<string, unknown>;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
