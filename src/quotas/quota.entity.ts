import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { numericColumn } from '../database/numeric-column';

export const QUOTA_SCOPES = ['global', 'org', 'level', 'user', 'provider'] as const;
export type QuotaScope = (typeof QUOTA_SCOPES)[number];
export const QUOTA_TYPES = ['cost_daily', 'cost_monthly', 'jobs_per_hour', 'jobs_per_day', 'concurrent_jobs'] as const;
export type QuotaType = (typeof QUOTA_TYPES)[number];
export const QUOTA_ACTIONS = ['block', 'warn', 'require_approval'] as const;
export type QuotaAction = (typeof QUOTA_ACTIONS)[number];

/** A limit on spend or submissions for everyone (per user), an org, a level (per user), a user or a provider. */
@Entity('quotas')
export class Quota {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  scope: QuotaScope;

  /** The org id, level name, user id or provider name; null for a global quota. */
  @Column('text', { nullable: true })
  scopeId: string | null;

  @Column('text')
  type: QuotaType;

  /** Dollars for the cost types, a count for the others. */
  @Column('numeric', { transformer: numericColumn })
  limit: number;

  @Column('text')
  action: QuotaAction;

  @Column('boolean', { default: true })
  isActive: boolean;

  /** Last created or changed by an admin: a lead may then lower it, never raise or loosen it. */
  @Column('boolean', { default: false })
  adminSet: boolean;

  @Column('uuid', { nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
