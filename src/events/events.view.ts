import { ApiProperty } from '@nestjs/swagger';
import { USER_LEVELS } from '../auth';
import { JobProgressView } from '../common/job-progress.view';
import { JOB_STATUSES } from '../common/job-status';
import { ApiDateTime, ApiEnum, ApiInt, ApiUuid } from '../openapi';

/**
 * The `data:` line of each event on GET /api/events: flat JSON that always carries `type` (also the `event:` name)
 * and, for job events, `job_id`. Publishers may add fields; clients should ignore fields they do not know.
 */
const eventType = (type: string) => ApiProperty({ enum: [type], description: 'Also the `event:` name' });

class JobSubmittedEvent {
  @eventType('job_submitted')
  type: 'job_submitted';
  @ApiUuid()
  job_id: string;
  @ApiEnum(JOB_STATUSES, 'JobStatus')
  status: string;
  provider: string;
  config_name: string;
  cost_estimate: number;
  requires_approval: boolean;
  /** Present when the job retries another (`POST /api/cloud/jobs/:id/retry`) */
  @ApiUuid({ required: false })
  retry_of?: string;
}

class JobStatusChangedEvent {
  @eventType('job_status_changed')
  type: 'job_status_changed';
  @ApiUuid()
  job_id: string;
  @ApiEnum(JOB_STATUSES, 'JobStatus', { example: 'running' })
  status: string;
  @ApiEnum(JOB_STATUSES, 'JobStatus', { example: 'queued' })
  previous_status: string;
}

/** The provider accepted the job. */
class JobDispatchedEvent {
  @eventType('job_dispatched')
  type: 'job_dispatched';
  @ApiUuid()
  job_id: string;
  provider: string;
  /** The provider's id for the job */
  external_id: string;
  @ApiEnum(JOB_STATUSES, 'JobStatus', { required: false })
  status?: string;
  /** Provider submissions so far (dispatch through the queue) */
  @ApiInt({ required: false })
  attempt?: number;
}

class ApprovalRequiredEvent {
  @eventType('approval_required')
  type: 'approval_required';
  @ApiUuid()
  job_id: string;
  @ApiUuid()
  approval_id: string;
  @ApiUuid()
  rule_id: string;
  rule_name: string;
  reason: string;
  estimated_cost: number;
  @ApiEnum(USER_LEVELS, 'UserLevel')
  required_approver_level: string;
  @ApiDateTime()
  expires_at: string;
}

class ApprovalApprovedEvent {
  @eventType('approval_approved')
  type: 'approval_approved';
  @ApiUuid()
  job_id: string;
  @ApiUuid()
  approval_id: string;
  @ApiUuid()
  reviewed_by: string;
  notes: string | null;
}

class ApprovalRejectedEvent {
  @eventType('approval_rejected')
  type: 'approval_rejected';
  @ApiUuid()
  job_id: string;
  @ApiUuid()
  approval_id: string;
  @ApiUuid()
  reviewed_by: string;
  reason: string;
}

class ApprovalExpiredEvent {
  @eventType('approval_expired')
  type: 'approval_expired';
  @ApiUuid()
  job_id: string;
  @ApiUuid()
  approval_id: string;
  @ApiProperty({ example: 'Approval request expired and job was auto-rejected' })
  message: string;
}

/** A provider webhook was received for the job (once per webhook-id). */
class CloudJobUpdateEvent {
  @eventType('cloud_job_update')
  type: 'cloud_job_update';
  @ApiUuid()
  job_id: string;
  provider: string;
  external_id: string;
  /** The status the provider reported (`starting`, `processing`, `succeeded`…) */
  provider_status: string;
  webhook_id: string;
  @ApiEnum(JOB_STATUSES, 'JobStatus')
  status: string;
}

/** An output of the job was copied into the artifact store (GET /api/cloud/jobs/{id}/artifacts/{name}). */
class ArtifactStoredEvent {
  @eventType('artifact_stored')
  type: 'artifact_stored';
  @ApiUuid()
  job_id: string;
  /** The artifact's name within the job */
  @ApiProperty({ example: 'model.safetensors' })
  name: string;
  /** Bytes stored */
  @ApiInt()
  size: number;
  /** Hex SHA-256 of the stored bytes (the download's ETag) */
  sha256: string;
  /** As the provider served it */
  content_type: string;
}

/** An output of the job could not be copied (after its last try, or at once from an untrusted host); the job keeps its status. */
class ArtifactFailedEvent {
  @eventType('artifact_failed')
  type: 'artifact_failed';
  @ApiUuid()
  job_id: string;
  @ApiProperty({ example: 'model.safetensors' })
  name: string;
  /** Why, e.g. `untrusted source` or `HTTP 404 from replicate.delivery` */
  error: string;
  /** Copies tried (0: never fetched) */
  @ApiInt()
  attempts: number;
}

class QueueLimitsChangedEvent {
  @eventType('queue_limits_changed')
  type: 'queue_limits_changed';
  @ApiInt()
  max_concurrent: number;
  @ApiInt()
  user_max_concurrent: number;
  @ApiInt()
  org_max_concurrent: number;
  /** Username of who changed them */
  changed_by: string;
}

/** What a pause's events say about it. */
class QueuePauseFields {
  @ApiProperty({ enum: ['global', 'provider', 'org'] })
  scope: string;
  /** The provider name or org id; null for a global pause */
  @ApiProperty({ type: String, nullable: true })
  scope_id: string | null;
  reason: string;
  /** The user id of who paused it */
  @ApiUuid({ nullable: true })
  paused_by: string | null;
}

/** Dispatch was paused for a scope: nothing there starts until it is resumed; running jobs go on. */
class QueuePausedEvent extends QueuePauseFields {
  @eventType('queue_paused')
  type: 'queue_paused';
}

/** A paused scope dispatches again (`reason` and `paused_by` are the pause's). */
class QueueResumedEvent extends QueuePauseFields {
  @eventType('queue_resumed')
  type: 'queue_resumed';
  /** The user id of who resumed it */
  @ApiUuid()
  resumed_by: string;
}

/** A dataset upload in progress, to its uploader's streams: at most two a second per upload. */
class UploadProgressEvent {
  @eventType('upload_progress')
  type: 'upload_progress';
  /** The id the upload will have (an upload that does not complete leaves nothing under it) */
  @ApiUuid()
  upload_id: string;
  /** Bytes received so far */
  @ApiInt()
  bytes_received: number;
  /** The upload's Content-Length; null when it was sent chunked */
  @ApiInt({ nullable: true })
  total_bytes: number | null;
}

/**
 * A running job's training progress, read from its log: at most once per SIMPLETUNER_PROGRESS_EVENT_SECONDS per job,
 * and only when the stage changed or the percent moved by at least 1 since the job's last one.
 */
class JobProgressEvent extends JobProgressView {
  @eventType('job_progress')
  type: 'job_progress';
  @ApiUuid()
  job_id: string;
}

/**
 * An instance stopped calling a provider after a run of consecutive failures (its circuit opened): submits and
 * polls to it fail fast until it lets a trial call through after `open_seconds`. Sent once per outage per
 * instance, to everyone.
 */
class ProviderCircuitOpenEvent {
  @eventType('provider_circuit_open')
  type: 'provider_circuit_open';
  /** The provider's (or outbound target's) name, e.g. `replicate` */
  provider: string;
  /** Consecutive failed calls that opened it */
  @ApiInt()
  failures: number;
  /** Seconds before a trial call goes through */
  @ApiInt()
  open_seconds: number;
}

/**
 * Sent with id 0 when the Last-Event-ID was purged by retention (or is an id the log never held): every kept event
 * follows. An id older than every kept event is replayed without it while no purge has reached it (id 0 on a fresh
 * install).
 */
class ResetEvent {
  @eventType('reset')
  type: 'reset';
  last_event_id: string;
  message: string;
}

/**
 * The last message of a stream whose key was revoked or expired, or whose user was deactivated or lost the level
 * the stream needs; the server then closes the stream. Reconnecting with the same key gets 401.
 */
class StreamErrorEvent {
  @eventType('error')
  type: 'error';
  @ApiProperty({ enum: ['authentication_error'] })
  error: 'authentication_error';
  @ApiProperty({ example: 'Event stream ended: the API key was revoked' })
  message: string;
}

/** Event name → its data schema, in the order the stream documentation lists them. */
export const STREAM_EVENTS = {
  job_submitted: JobSubmittedEvent,
  job_status_changed: JobStatusChangedEvent,
  job_dispatched: JobDispatchedEvent,
  approval_required: ApprovalRequiredEvent,
  approval_approved: ApprovalApprovedEvent,
  approval_rejected: ApprovalRejectedEvent,
  approval_expired: ApprovalExpiredEvent,
  cloud_job_update: CloudJobUpdateEvent,
  artifact_stored: ArtifactStoredEvent,
  artifact_failed: ArtifactFailedEvent,
  queue_limits_changed: QueueLimitsChangedEvent,
  queue_paused: QueuePausedEvent,
  queue_resumed: QueueResumedEvent,
  upload_progress: UploadProgressEvent,
  job_progress: JobProgressEvent,
  provider_circuit_open: ProviderCircuitOpenEvent,
  reset: ResetEvent,
  error: StreamErrorEvent,
} as const;
