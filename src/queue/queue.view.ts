import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiEnum, ApiInt, ApiUuid } from '../openapi';
import { QUEUE_ENTRY_STATUSES, QueueEntryStatus, WAIT_REASONS, WaitReason } from './queue-entry.entity';

const BLOCKED_REASON =
  'Why the job waits: a limit that is full, an approval, a retry backoff, a paused scope or a scheduled start';

export class QueueEntryView {
  @ApiUuid()
  job_id: string;
  @ApiUuid()
  user_id: string;
  @ApiUuid()
  org_id: string;
  provider: string;
  @ApiEnum(QUEUE_ENTRY_STATUSES, 'QueueEntryStatus', { example: 'pending' })
  status: QueueEntryStatus;
  /** The job's priority at submission */
  @ApiInt()
  priority: number;
  @ApiInt({ nullable: true })
  priority_override: number | null;
  /** override ?? priority, raised while the job waits long (capped at 40): what dispatch order reads */
  @ApiInt()
  effective_priority: number;
  /** 1-based rank among pending entries in dispatch order; null unless pending */
  @ApiInt({ nullable: true })
  position: number | null;
  @ApiEnum(WAIT_REASONS, 'BlockedReason', { nullable: true, description: BLOCKED_REASON })
  blocked_reason: WaitReason | null;
  @ApiInt()
  attempt: number;
  @ApiInt()
  max_attempts: number;
  last_error: string | null;
  @ApiDateTime({ nullable: true })
  queued_at: string | null;
  /** Not dispatched before this (retry backoff) */
  @ApiDateTime({ nullable: true })
  not_before: string | null;
  @ApiDateTime({ nullable: true })
  dispatched_at: string | null;
  @ApiDateTime({ nullable: true })
  finished_at: string | null;
}

export class QueueListView {
  @ApiProperty({ type: [QueueEntryView] })
  entries: QueueEntryView[];
  @ApiInt()
  total: number;
}

/** Where each limit comes from: `database` (set through the API) or `config` (environment, file or default). */
export class LimitSourcesView {
  @ApiProperty({ enum: ['database', 'config'] })
  max_concurrent: 'database' | 'config';
  @ApiProperty({ enum: ['database', 'config'] })
  user_max_concurrent: 'database' | 'config';
  @ApiProperty({ enum: ['database', 'config'] })
  org_max_concurrent: 'database' | 'config';
}

export class QueueLimitsView {
  /** Running jobs at once, in all */
  @ApiInt({ example: 5 })
  max_concurrent: number;
  @ApiInt({ example: 2 })
  user_max_concurrent: number;
  @ApiInt({ example: 10 })
  org_max_concurrent: number;
  source: LimitSourcesView;
}

export class QueueStatsView {
  /** Entries by queue status */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { pending: 3, running: 2 } })
  by_status: Record<string, number>;
  /** Pending entries */
  @ApiInt()
  depth: number;
  @ApiInt()
  blocked: number;
  /** Running and dispatching entries (holding a slot) */
  @ApiInt()
  running: number;
  /** Mean wait between queueing and dispatch over the last 24 h */
  avg_wait_seconds: number | null;
  @ApiInt()
  dispatched_last_24h: number;
  limits: QueueLimitsView;
}

/** Where a job stands in the queue and why it waits. */
export class QueuePositionView {
  @ApiUuid()
  job_id: string;
  @ApiEnum(QUEUE_ENTRY_STATUSES, 'QueueEntryStatus', { example: 'pending' })
  status: QueueEntryStatus;
  @ApiInt({ nullable: true, example: 3 })
  position: number | null;
  @ApiInt({ example: 20 })
  effective_priority: number;
  /** From the dispatch rate of the last hour; null when unknown (nothing dispatched in that hour, or dispatch paused) */
  @ApiInt({ nullable: true, example: 240 })
  estimated_wait_seconds: number | null;
  @ApiEnum(WAIT_REASONS, 'BlockedReason', { nullable: true, description: BLOCKED_REASON, example: 'user_limit' })
  blocked_reason: WaitReason | null;
}

export class ReconciledView {
  @ApiInt()
  adopted: number;
  @ApiInt()
  redispatched: number;
  @ApiInt()
  failed: number;
}

/** What one queue tick did. */
export class TickSummaryView {
  tick_id: string;
  /** Entries whose waiting priority was raised */
  @ApiInt()
  aged: number;
  @ApiInt()
  claimed: number;
  @ApiInt()
  dispatched: number;
  /** Back to pending after a retryable provider error */
  @ApiInt()
  retried: number;
  @ApiInt()
  failed: number;
  /** Submissions whose outcome is unknown (reconciled by a later tick) */
  @ApiInt()
  unknown: number;
  @ApiInt()
  lost: number;
  /** Scheduled entries whose start came (pending from this tick on) */
  @ApiInt()
  released_scheduled: number;
  /** Jobs cancelled because they were not dispatched within their max_wait_seconds */
  @ApiInt()
  wait_expired: number;
  reconciled: ReconciledView;
  claim_ms: number;
  dispatch_ms: number;
  duration_ms: number;
}

/** A paused dispatch scope: its pending entries stay pending; running jobs go on. */
export class DispatchPauseView {
  @ApiUuid()
  id: string;
  @ApiProperty({ enum: ['global', 'provider', 'org'], example: 'global' })
  scope: 'global' | 'provider' | 'org';
  /** The provider name or org id; null for a global pause */
  @ApiProperty({ type: String, nullable: true, example: null })
  scope_id: string | null;
  @ApiProperty({ example: 'Provider maintenance until 06:00 UTC' })
  reason: string;
  /** The user id of who paused it */
  @ApiUuid({ nullable: true })
  paused_by: string | null;
  @ApiDateTime()
  created_at: string;
}

export class DispatchPauseListView {
  @ApiProperty({ type: [DispatchPauseView] })
  pauses: DispatchPauseView[];
}
