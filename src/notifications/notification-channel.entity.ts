import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const CHANNEL_KINDS = ['webhook', 'slack', 'email'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];
export const OWNER_SCOPES = ['user', 'org', 'global'] as const;
export type OwnerScope = (typeof OWNER_SCOPES)[number];

/** `webhook` and `slack`: the target URL; `email`: addresses and the roles `owner` and `approvers`. */
export interface ChannelConfig {
  url?: string;
  recipients?: string[];
}

export interface ChannelFilters {
  /** Only events about jobs the channel's creator submitted. */
  job_owner_only?: boolean;
  /** Only events whose job is estimated (or known) to cost at least this many dollars. */
  min_cost?: number;
}

/** Where notifications go, whose events it hears, and which. */
@Entity('notification_channels')
export class NotificationChannel {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  kind: ChannelKind;

  @Column('text')
  name: string;

  @Column('text')
  ownerScope: OwnerScope;

  @Column('uuid', { nullable: true })
  orgId: string | null;

  @Column('uuid', { nullable: true })
  userId: string | null;

  @Column('jsonb', { default: {} })
  config: ChannelConfig;

  /** Event types as notifications name them (`job.completed`). */
  @Column('jsonb', { default: [] })
  events: string[];

  @Column('jsonb', { default: {} })
  filters: ChannelFilters;

  /** The webhook signing secret, sealed; never returned after creation or rotation. */
  @Column('text', { nullable: true })
  secretSealed: string | null;

  @Column('text', { nullable: true })
  secretKeyId: string | null;

  @Column('boolean', { default: true })
  isActive: boolean;

  /** Why the service switched it off (its last 20 deliveries failed); null when on or switched off by a person. */
  @Column('text', { nullable: true })
  disabledReason: string | null;

  @Column('uuid', { nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
