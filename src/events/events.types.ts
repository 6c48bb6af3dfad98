import type { JobProgress } from '../common/job-progress';
import type { QuotaExceededDetails } from '../common/errors';

/**
 * Each event type and the fields of its `data` (besides `type` and `job_id`, which the publisher adds). An
 * enterprise module adds its own types by augmenting this interface:
 * `declare module '<path>/events/events.types' { interface EventPayloads { my_event: { n: number } } }`.
 */
export interface EventPayloads {
  job_submitted: {
    status: string;
    provider: string;
    config_name: string;
    cost_estimate: number;
    requires_approval: boolean;
    /** Present when the job retries another. */
    retry_of?: string;
  };
  job_status_changed: { status: string; previous_status: string };
  job_dispatched: { provider: string; external_id: string | undefined; attempt: number | undefined };
  approval_required: {
    approval_id: string;
    /** Null when only a quota holds the job. */
    rule_id: string | null;
    rule_name: string;
    reason: string;
    estimated_cost: number;
    required_approver_level: string;
    expires_at: string;
  };
  approval_approved: { approval_id: string; reviewed_by: string; notes: string | null };
  approval_rejected: { approval_id: string; reviewed_by: string; reason: string };
  approval_expired: { approval_id: string; message: string };
  cloud_job_update: {
    provider: string;
    external_id: string;
    provider_status: string;
    webhook_id: string;
    status: string;
  };
  artifact_stored: { name: string; size: number; sha256: string; content_type: string };
  artifact_failed: { name: string; error: string; attempts: number };
  queue_limits_changed: {
    max_concurrent: number;
    user_max_concurrent: number;
    org_max_concurrent: number;
    changed_by: string;
  };
  /** Dispatch was paused for a scope (the whole service, a provider or an org); running jobs go on. */
  queue_paused: QueuePauseEvent;
  /** A paused scope dispatches again; `reason` and `paused_by` are the pause's. */
  queue_resumed: QueuePauseEvent & { resumed_by: string };
  /** A submit passed a `warn` quota (accepted; `used` includes the new job). */
  quota_warning: {
    quota_id: string;
    type: string;
    scope: string;
    scope_id: string | null;
    limit: number;
    used: number;
  };
  /** A user, org or provider passed 80 % of a cost quota for the first time in the window. */
  quota_threshold: {
    quota_id: string;
    type: string;
    scope: string;
    scope_id: string | null;
    /** Whose spend: a user id (user, level and global quotas), an org id, or a provider name. */
    subject_id: string;
    limit: number;
    used: number;
    window_start: string;
    resets_at: string;
  };
  /** A `block` quota refused a submit (no job was created). */
  quota_exceeded: QuotaExceededDetails;
  /** A dataset upload's bytes so far, to its uploader (at most twice a second per upload). */
  upload_progress: { upload_id: string; bytes_received: number; total_bytes: number | null };
  /** A running job's training progress, as read from its log (at most once per SIMPLETUNER_PROGRESS_EVENT_SECONDS). */
  job_progress: Required<JobProgress>;
  /** An instance stopped calling a provider after a run of failures; it tries again after `open_seconds`. */
  provider_circuit_open: { provider: string; failures: number; open_seconds: number };
}

export type EventType = keyof EventPayloads;

interface QueuePauseEvent {
  scope: string;
  scope_id: string | null;
  reason: string;
  /** The user id of who paused it. */
  paused_by: string | null;
}

/** What a service publishes. Who it is about decides who sees it on the stream (see event-visibility). */
export type NewEvent<K extends EventType = EventType> = K extends EventType
  ? { type: K; jobId?: string | null; userId?: string | null; orgId?: string | null; data: EventPayloads[K] }
  : never;

/** An event as stored and as streamed. */
export interface StoredEvent {
  /** bigint as a string */
  id: string;
  type: string;
  jobId: string | null;
  userId: string | null;
  orgId: string | null;
  /** The flat payload clients receive: `{type, job_id, ...}`. */
  data: Record<string, unknown>;
  createdAt: Date;
}

/**
 * Where an event sits in the delivery order: (inserting transaction id, event id). Readers only hand out
 * rows whose transaction is older than every running one, so a row that commits later always sorts after
 * everything already delivered, even when its id is lower.
 */
export interface EventPosition {
  tx: bigint;
  id: bigint;
}

export const START_POSITION: EventPosition = Object.freeze({ tx: 0n, id: 0n });

/** A stored event with its position; internal to the events module. */
export interface LoggedEvent extends StoredEvent {
  position: EventPosition;
}

export function comparePositions(a: EventPosition, b: EventPosition): number {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/** The event types this service publishes (enterprise modules may add more; the stream does not restrict them). */
export const EVENT_TYPES: readonly EventType[] = [
  'job_submitted',
  'job_status_changed',
  'job_dispatched',
  'approval_required',
  'approval_approved',
  'approval_rejected',
  'approval_expired',
  'cloud_job_update',
  'artifact_stored',
  'artifact_failed',
  'queue_limits_changed',
  'queue_paused',
  'queue_resumed',
  'upload_progress',
  'job_progress',
  'provider_circuit_open',
];

/** The stream's own control event, sent when a Last-Event-ID is no longer (or never was) in the log. */
export const RESET_EVENT = 'reset';
