import { Column, Entity, PrimaryColumn } from 'typeorm';
import { numericColumn } from '../database/numeric-column';

/** A dataset archive kept at a provider's files API (or the simulator's folder) for a training job to read. */
@Entity('uploads')
export class Upload {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  userId: string;

  @Column('uuid')
  orgId: string;

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
