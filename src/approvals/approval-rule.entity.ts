import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { UserLevel } from '../auth/user.entity';
import type { RuleCondition } from './rules-engine';

/** An approval rule; `threshold` is read according to `condition` (see rules-engine.ts). */
@Entity('approval_rules')
export class ApprovalRule {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('text', { nullable: true })
  description: string | null;

  @Column('text')
  condition: RuleCondition;

  @Column('text', { nullable: true })
  threshold: string | null;

  @Column('boolean', { default: true })
  isActive: boolean;

  @Column('int', { default: 0 })
  priority: number;

  @Column('text', { nullable: true })
  appliesToProvider: string | null;

  @Column('text', { array: true, default: () => "'{}'" })
  exemptLevels: UserLevel[];

  /** Levels the rule applies to; empty = every level. */
  @Column('text', { array: true, default: () => "'{}'" })
  appliesToLevels: UserLevel[];

  @Column('text', { default: 'lead' })
  requiredApproverLevel: UserLevel;

  @Column('uuid', { nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
