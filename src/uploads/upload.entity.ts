import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Org } from '../auth/org.entity';
import { User } from '../auth/user.entity';
import { numericColumn } from '../database/numeric-column';

/**
 * A dataset archive kept at a provider's files API (or the simulator's folder) for a training job to read. Mirrors
 * its migration, so that `migration:generate` finds nothing to change.
 */
@Entity('uploads')
@Check('uploads_size_check', `size >= 0`)
@Index('uploads_user_created_idx', ['userId', 'createdAt'])
@Index('uploads_org_created_idx', ['orgId', 'createdAt'])
export class Upload {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  userId: string;

  @ManyToOne(() => User, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'uploads_user_id_fkey' })
  user?: User;

  @Column('uuid')
  orgId: string;

  @ManyToOne(() => Org, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'uploads_org_id_fkey' })
  org?: Org;

  /** Where the file is: `replicate` or `simulator`. */
  @Column('text')
  provider: string;

  /** The provider's id of the file (the simulator: the upload's own id). */
  @Column('text')
  externalId: string;

  @Column('text')
  filename: string;

  @Column('text')
  contentType: string;

  /** bigint in the table; 100 MiB fits a number many times over. */
  @Column('bigint', { transformer: numericColumn })
  size: number;

  /** Hex, computed here as the bytes went through. */
  @Column('text')
  sha256: string;

  /** The provider's URL of the file: what a training job is given to download. */
  @Column('text')
  url: string;

  @Column('timestamptz')
  createdAt: Date;

  /** When the provider drops the file (null: it never said). */
  @Column('timestamptz', { nullable: true })
  expiresAt: Date | null;
}
