import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Org } from '../auth/org.entity';
import { User } from '../auth/user.entity';
import type { JobProgress, ProgressEventMark } from '../common/job-progress';
import type { JobStatus } from '../common/job-status';
import type { JobDataset } from '../providers';
import { numericColumn } from '../database/numeric-column';

// Mirrors migration 1764300003000 and those that alter jobs since, so that `migration:generate` finds nothing to change.
@Entity('jobs')
@Check(
  'jobs_status_check',
  `status = ANY (ARRAY['pending'::text, 'uploading'::text, 'queued'::text, 'running'::text, 'completed'::text, 'failed'::text, 'cancelled'::text])`,
)
@Check('jobs_priority_check', `(priority >= 0) AND (priority <= 50)`)
@Check('jobs_priority_override_check', `(priority_override >= 0) AND (priority_override <= 50)`)
@Check('jobs_max_train_steps_check', `max_train_steps >= 1`)
@Index('jobs_active_idx', ['provider', 'createdAt'], {
  where: `status = ANY (ARRAY['pending'::text, 'uploading'::text, 'queued'::text, 'running'::text])`,
})
@Index('jobs_user_created_idx', ['userId', 'createdAt'])
@Index('jobs_org_created_idx', ['orgId', 'createdAt'])
@Index('jobs_provider_external_id_key', ['provider', 'externalId'], { unique: true, where: 'external_id IS NOT NULL' })
@Index('jobs_finished_idx', ['completedAt'], {
  where: `status = ANY (ARRAY['completed'::text, 'failed'::text, 'cancelled'::text])`,
})
@Index('jobs_completed_profile_idx', ['orgId', 'hardwareProfile', 'completedAt'], {
  where: `status = 'completed'::text`,
})
// The quota check's covering indexes (INCLUDE cost_usd, cost_estimate, status, external_id): made by the quotas
// migration; TypeORM cannot declare INCLUDE, so the schema diff is told to leave them alone.
@Index('jobs_retry_of_idx', ['retryOf', 'createdAt'], { where: 'retry_of IS NOT NULL' })
@Index('jobs_user_spend_idx', { synchronize: false })
@Index('jobs_org_spend_idx', { synchronize: false })
@Index('jobs_provider_spend_idx', { synchronize: false })
export class Job {
  @PrimaryGeneratedColumn('uuid')
  jobId: string;

  @Column('uuid')
  userId: string;

  @ManyToOne(() => User, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'jobs_user_id_fkey' })
  user?: User;

  @Column('uuid')
  orgId: string;

  @ManyToOne(() => Org, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'jobs_org_id_fkey' })
  org?: Org;

  @Column('text')
  provider: string;

  /** The provider's prediction id, once dispatched. */
  @Column('text', { nullable: true })
  externalId: string | null;

  @Column('text')
  status: JobStatus;

  @Column('text')
  configName: string;

  @Column('jsonb', { default: {} })
  config: Record<string, unknown>;

  @Column('text')
  hardwareProfile: string;

  @Column('int')
  priority: number;

  @Column('int', { nullable: true })
  priorityOverride: number | null;

  @Column('boolean', { default: false })
  requiresApproval: boolean;

  @Column('uuid', { nullable: true })
  approvalId: string | null;

  @Column('numeric', { transformer: numericColumn, default: 0 })
  costEstimate: number;

  @Column('numeric', { transformer: numericColumn, nullable: true })
  costUsd: number | null;

  @Column('text', { nullable: true })
  errorMessage: string | null;

  @Column('text', { nullable: true })
  outputUrl: string | null;

  /** Every http(s) URL of the provider's output on completion (copied into the artifact store). */
  @Column('jsonb', { nullable: true })
  outputUrls: string[] | null;

  @Column('text', { nullable: true })
  logsUrl: string | null;

  /** The submitting request's id: background work on this job logs under it. */
  @Column('text')
  correlationId: string;

  @Column('int', { default: 0 })
  attempt: number;

  @Column('int', { default: 3 })
  maxAttempts: number;

  @Column('int', { default: 86400 })
  maxRuntimeSeconds: number;

  /** Not dispatched before this (the submit's `start_after`); null: as soon as the queue allows. */
  @Column('timestamptz', { nullable: true })
  startAfter: Date | null;

  /** Cancelled when still not dispatched this long after its submit; null: waits as long as it takes. */
  @Column('int', { nullable: true })
  maxWaitSeconds: number | null;

  @Column('text', { nullable: true })
  idempotencyKey: string | null;

  @Column('text', { nullable: true })
  requestHash: string | null;

  /** The API key the job was submitted with, and who minted it: an approver must be independent of both. */
  @Column('uuid', { nullable: true })
  submittedKeyId: string | null;

  @Column('uuid', { nullable: true })
  submittedKeyMintedBy: string | null;

  /** The trainer's multidatabackend list (its dataloader config). */
  @Column('jsonb', { nullable: true })
  dataloaderConfig: Record<string, unknown>[] | null;

  @Column('jsonb', { nullable: true })
  lycorisConfig: Record<string, unknown> | null;

  /** The archive the trainer downloads: `{url}`, with `upload_id` when it came from an upload. */
  @Column('jsonb', { nullable: true })
  dataset: JobDataset | null;

  @Column('text', { nullable: true })
  hubModelId: string | null;

  @Column('int', { nullable: true })
  maxTrainSteps: number | null;

  /** Names of the secrets the job was given (their values are sealed in job_secrets until the job ends). */
  @Column('text', { array: true, default: () => "'{}'" })
  secretNames: string[];

  /** The job this one retries (POST /api/cloud/jobs/:id/retry); cleared when that job is deleted. */
  @Column('uuid', { nullable: true })
  retryOf: string | null;

  @ManyToOne(() => Job, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'retry_of', foreignKeyConstraintName: 'jobs_retry_of_fkey' })
  retried?: Job;

  /** Set when a cancel arrives while the dispatch outcome is unknown; carried out once it is recorded. */
  @Column('timestamptz', { nullable: true })
  cancelRequestedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz', { default: () => 'now()' })
  queuedAt: Date;

  @Column('timestamptz', { nullable: true })
  startedAt: Date | null;

  @Column('timestamptz', { nullable: true })
  completedAt: Date | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;

  @Column('jsonb', { default: {} })
  metadata: Record<string, unknown>;

  /** The training progress read from the job's log; null until the log tells any. */
  @Column('jsonb', { nullable: true })
  progress: Required<JobProgress> | null;

  /** The last job_progress event: when, and the stage and percent it carried. */
  @Column('jsonb', { nullable: true })
  progressEvent: ProgressEventMark | null;
}
