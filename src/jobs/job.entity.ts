import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn, ValueTransformer } from 'typeorm';
import type { JobStatus } from './job-status';

/** pg returns numeric as a string; jobs' money fits a double comfortably. */
const numeric: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null) => (v === null || v === undefined ? null : Number(v)),
};

@Entity('jobs')
export class Job {
  @PrimaryGeneratedColumn('uuid')
  jobId: string;

  @Column('uuid')
  userId: string;

  @Column('uuid')
  orgId: string;

  @Column('text')
  provider: string;

  /** The provider's prediction id, once dispatched. */
  @Column('text', { nullable: true })
  externalId: string | null;

  @Column('text')
  status: JobStatus;

  @Column('text')
  configName: string;

  @Column('jsonb', { default: () => "'{}'::jsonb" })
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

  @Column('numeric', { transformer: numeric, default: 0 })
  costEstimate: number;

  @Column('numeric', { transformer: numeric, nullable: true })
  costUsd: number | null;

  @Column('text', { nullable: true })
  errorMessage: string | null;

  @Column('text', { nullable: true })
  outputUrl: string | null;

  @Column('text', { nullable: true })
  logsUrl: string | null;

  /** The submitting request's id: background work on this job logs under it (SPEC §2). */
  @Column('text')
  correlationId: string;

  @Column('int', { default: 0 })
  attempt: number;

  @Column('int', { default: 3 })
  maxAttempts: number;

  @Column('int', { default: 86400 })
  maxRuntimeSeconds: number;

  @Column('text', { nullable: true })
  idempotencyKey: string | null;

  @Column('text', { nullable: true })
  requestHash: string | null;

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

  @Column('jsonb', { default: () => "'{}'::jsonb" })
  metadata: Record<string, unknown>;
}
