import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const QUEUE_ENTRY_STATUSES = [
  'pending',
  'blocked',
  'dispatching',
  'running',
  'completed',
  'failed',
  'cancelled',
] as const;
export type QueueEntryStatus = (typeof QUEUE_ENTRY_STATUSES)[number];

/** Why a job waits (GET /api/queue/position); quota_limit and budget_exhausted are quotas' (a concurrent_jobs limit,
 * a spent budget), paused and scheduled the operators' and the submitter's. */
export const WAIT_REASONS = [
  'user_limit',
  'org_limit',
  'global_limit',
  'awaiting_approval',
  'backoff',
  'quota_limit',
  'budget_exhausted',
  'paused',
  'scheduled',
] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

/** One job's place in the queue; the schema is migration 1764300004000-queue. */
@Entity('queue_entries')
export class QueueEntry {
  @PrimaryColumn('uuid')
  jobId: string;

  @Column('uuid')
  userId: string;

  @Column('uuid')
  orgId: string;

  @Column('text')
  provider: string;

  /** The job's priority at submission (the level default or what the caller asked for). */
  @Column('int')
  basePriority: number;

  @Column('int', { nullable: true })
  priorityOverride: number | null;

  /** override ?? base, plus stored aging: what the dispatch order reads. */
  @Column('int')
  effectivePriority: number;

  @Column('text')
  status: QueueEntryStatus;

  @Column('text', { nullable: true })
  blockedReason: string | null;

  /** When the job entered the queue: the FIFO key within a priority level. */
  @Column('timestamptz', { default: () => 'now()' })
  queuedAt: Date;

  /** Aging is measured from here: set when the entry becomes pending, shifted past any backoff. */
  @Column('timestamptz', { nullable: true })
  pendingSince: Date | null;

  /** When the next aging step is due (null: capped); the tick refreshes only rows past it. */
  @Column('timestamptz', { nullable: true })
  nextAgingAt: Date | null;

  /**
   * Backoff after a retryable provider error, or a scheduled start (`blocked`, reason `scheduled`, until then): not
   * dispatched before this.
   */
  @Column('timestamptz', { nullable: true })
  notBefore: Date | null;

  /** The job is cancelled when its entry still waits (pending or blocked) at this time (`max_wait_seconds`). */
  @Column('timestamptz', { nullable: true })
  waitDeadline: Date | null;

  @Column('timestamptz', { nullable: true })
  dispatchedAt: Date | null;

  /** Fencing token of the claim that owns a `dispatching` entry: a late or duplicate recorder cannot overwrite. */
  @Column('text', { nullable: true })
  dispatchToken: string | null;

  /** Provider submissions made so far. */
  @Column('int', { default: 0 })
  attempt: number;

  @Column('int', { default: 3 })
  maxAttempts: number;

  @Column('text', { nullable: true })
  lastError: string | null;

  @Column('timestamptz', { nullable: true })
  finishedAt: Date | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
