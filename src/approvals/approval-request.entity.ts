import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { UserLevel } from '../auth/user.entity';
import { numericColumn } from '../database/numeric-column';

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** One job waiting for a person. Only `pending` ever changes (conditional updates). */
@Entity('approval_requests')
export class ApprovalRequest {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  jobId: string;

  @Column('uuid')
  userId: string;

  @Column('uuid')
  orgId: string;

  /** Null once the rule is deleted; the request keeps what it needs from it (below). */
  @Column('uuid', { nullable: true })
  ruleId: string | null;

  @Column('text', { nullable: true })
  ruleName: string | null;

  /** Copied from the rule at creation so that editing or deleting the rule never changes who may decide. */
  @Column('text')
  requiredApproverLevel: UserLevel;

  @Column('text', { default: 'pending' })
  status: ApprovalStatus;

  @Column('text')
  reason: string;

  @Column('numeric', { precision: 12, scale: 4, nullable: true, transformer: numericColumn })
  estimatedCost: number | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz')
  expiresAt: Date;

  @Column('uuid', { nullable: true })
  reviewedBy: string | null;

  @Column('timestamptz', { nullable: true })
  reviewedAt: Date | null;

  @Column('text', { nullable: true })
  reviewNotes: string | null;
}
