import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import type { UserLevel } from '../common/permissions';
import { Org } from './org.entity';

// The level ranking is shared with the dashboard, which bundles it: one copy, in src/common.
export { USER_LEVELS, atLeast } from '../common/permissions';
export type { UserLevel };

@Entity('users')
@Unique('users_org_username_key', ['orgId', 'username'])
@Index('users_org_id_idx', ['orgId'])
@Index('users_created_by_idx', ['createdBy'], { where: 'created_by IS NOT NULL' })
@Index('users_oidc_subject_key', ['oidcSubject'], { unique: true, where: 'oidc_subject IS NOT NULL' })
@Check('users_level_check', `level = ANY (ARRAY['viewer'::text, 'researcher'::text, 'lead'::text, 'admin'::text])`)
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  username: string;

  @Column('text', { nullable: true })
  email: string | null;

  @Column('text')
  level: UserLevel;

  @Column('uuid')
  orgId: string;

  @ManyToOne(() => Org, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'users_org_id_fkey' })
  org?: Org;

  @Column('boolean', { default: true })
  isActive: boolean;

  /** Who created this account (null: the bootstrap admin, or created before this was recorded). */
  @Column('uuid', { nullable: true })
  createdBy: string | null;

  /** Issuer and `sub` of a single sign-on account (null: an account that signs in with API keys only). */
  @Column('text', { nullable: true })
  oidcSubject: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
