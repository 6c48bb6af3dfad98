import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique } from 'typeorm';
import type { ArtifactStatus } from '../common/artifact-status';
import { Job } from '../jobs/job.entity';

/** bigint arrives from pg as a string; sizes stay far below 2^53. */
const bigintColumn = {
  to: (v: number | null) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

// Mirrors migration 1764600000000 so that `migration:generate` finds nothing to change.
@Entity('job_artifacts')
@Check(
  'job_artifacts_status_check',
  `status = ANY (ARRAY['pending'::text, 'copying'::text, 'stored'::text, 'failed'::text])`,
)
@Unique('job_artifacts_job_name_key', ['jobId', 'name'])
@Index('job_artifacts_due_idx', ['nextAttemptAt'], { where: `status = 'pending'::text` })
@Index('job_artifacts_copying_idx', ['leaseUntil'], { where: `status = 'copying'::text` })
export class JobArtifact {
  @PrimaryColumn('uuid')
  artifactId: string;

  @Column('uuid')
  jobId: string;

  @ManyToOne(() => Job, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'job_artifacts_job_id_fkey' })
  job?: Job;

  /** The job's owner and organisation: who sees the artifact's events. */
  @Column('uuid')
  userId: string;

  @Column('uuid')
  orgId: string;

  /** The job's provider: its API's own host is a trusted source. */
  @Column('text')
  provider: string;

  /** The job's submit request: the copy's log lines carry it. */
  @Column('text')
  correlationId: string;

  /** The file name in the API (unique within the job), from the URL's last path segment. */
  @Column('text')
  name: string;

  /** Its place among the job's outputs, as the provider listed them. */
  @Column('int')
  position: number;

  /** Never shown by the API: a signed URL may carry a credential in its query. */
  @Column('text')
  sourceUrl: string;

  @Column('text')
  status: ArtifactStatus;

  /** Copies started so far (a copy interrupted by a crash counts). */
  @Column('int', { default: 0 })
  attempts: number;

  @Column('timestamptz', { default: () => 'now()' })
  nextAttemptAt: Date;

  /** Who holds a `copying` row: every write of the copy is conditional on it. */
  @Column('uuid', { nullable: true })
  claimId: string | null;

  /** A `copying` row whose lease has passed belongs to a holder that stopped: it goes back to pending. */
  @Column('timestamptz', { nullable: true })
  leaseUntil: Date | null;

  @Column('bigint', { nullable: true, transformer: bigintColumn })
  size: number | null;

  @Column('text', { nullable: true })
  sha256: string | null;

  @Column('text', { nullable: true })
  contentType: string | null;

  @Column('text', { nullable: true })
  error: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz', { default: () => 'now()' })
  updatedAt: Date;

  @Column('timestamptz', { nullable: true })
  storedAt: Date | null;
}
