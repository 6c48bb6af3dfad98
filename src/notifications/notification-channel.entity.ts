import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Org } from '../auth/org.entity';
import { User } from '../auth/user.entity';

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

/** Where notifications go, whose events it hears, and which. Mirrors migration 1765000200000. */
@Entity('notification_channels')
@Check('notification_channels_kind_check', `kind = ANY (ARRAY['webhook'::text, 'slack'::text, 'email'::text])`)
@Check(
  'notification_channels_owner_scope_check',
  `owner_scope = ANY (ARRAY['user'::text, 'org'::text, 'global'::text])`,
)
@Check(
  'notification_channels_owner_check',
  `owner_scope = 'user' AND user_id IS NOT NULL OR owner_scope = 'org' AND org_id IS NOT NULL AND user_id IS NULL OR owner_scope = 'global' AND org_id IS NULL AND user_id IS NULL`,
)
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

  @ManyToOne(() => Org, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'notification_channels_org_id_fkey' })
  org?: Org;

  @Column('uuid', { nullable: true })
  userId: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'notification_channels_user_id_fkey' })
  user?: User;

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

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by', foreignKeyConstraintName: 'notification_channels_created_by_fkey' })
  creator?: User;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
