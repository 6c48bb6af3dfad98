import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiEnum, ApiInt, ApiUuid } from '../openapi';
import type { CostEstimate } from './job-cost';
import { JOB_STATUSES, JobStatus } from '../common/job-status';
import { JobProgressView } from '../common/job-progress.view';
import { ARTIFACT_STATUSES, type ArtifactStatus } from '../common/artifact-status';
import { MAX_DATALOADER_ENTRIES } from '../common/submission-rules';

const uuidExample = '3f1c2b9e-8a4d-4c6e-9b1a-2d7e5f0a1c3b';

/** The dataset as submitted: the archive's URL, or the upload it came from. */
export class JobDatasetView {
  @ApiProperty({ required: false, example: 'https://example.com/datasets/portraits.zip' })
  url?: string;
  @ApiUuid({ required: false })
  upload_id?: string;
}

/** What the trainer is given besides `config`, as submitted; secrets by name only. */
export class TrainerInputsView {
  /** The trainer's multidatabackend list (its dataloader config) */
  @ApiProperty({
    type: 'array',
    nullable: true,
    maxItems: MAX_DATALOADER_ENTRIES,
    items: { type: 'object', additionalProperties: true } as Record<string, unknown>,
  })
  dataloader_config: Record<string, unknown>[] | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, example: { algo: 'lokr', factor: 16 } })
  lycoris_config: Record<string, unknown> | null;
  @ApiProperty({ type: JobDatasetView, nullable: true })
  dataset: JobDatasetView | null;
  @ApiProperty({ type: String, nullable: true, example: 'my-org/portrait-lora' })
  hub_model_id: string | null;
  @ApiInt({ nullable: true, example: 2000 })
  max_train_steps: number | null;
  /** Names of the secrets the job was given; their values are never shown */
  @ApiProperty({ type: [String], example: ['hf_token'] })
  secrets: string[];
}

/** A completed job's output as its job shows it (`GET /api/cloud/jobs/{id}/artifacts` has the copy's error too). */
export class JobArtifactView {
  /** Unique within the job; the download is `GET /api/cloud/jobs/{id}/artifacts/{name}` */
  name: string;
  /** Bytes stored (null until stored) */
  @ApiInt({ nullable: true })
  size: number | null;
  /** Hex SHA-256 of the stored bytes, the download's ETag (null until stored) */
  sha256: string | null;
  /** As the provider served it (null until stored); the download itself is always application/octet-stream */
  content_type: string | null;
  /** `pending` and `copying` until the copy ends `stored` or, after its last try, `failed` */
  @ApiEnum(ARTIFACT_STATUSES, 'ArtifactStatus')
  status: ArtifactStatus;
  @ApiDateTime()
  created_at: string;
}

/** A training job as the API shows it: never its secrets (secret-named config keys read `[REDACTED]`). */
export class JobView extends TrainerInputsView {
  @ApiUuid({ example: uuidExample })
  job_id: string;
  @ApiUuid()
  user_id: string;
  @ApiUuid()
  org_id: string;
  /** `replicate` or `simulator` */
  @ApiProperty({ example: 'simulator' })
  provider: string;
  /** The provider's id for the job (Replicate's prediction id) once dispatched */
  external_id: string | null;
  @ApiEnum(JOB_STATUSES, 'JobStatus', { example: 'running' })
  status: JobStatus;
  @ApiProperty({ example: 'flux-lora-portraits' })
  config_name: string;
  /** The submitted configuration, with secret-named keys redacted */
  @ApiProperty({ type: 'object', additionalProperties: true, example: { learning_rate: 0.0001, max_steps: 2000 } })
  config: Record<string, unknown>;
  @ApiProperty({ example: 'l40s' })
  hardware_profile: string;
  /** The priority asked for at submission: 0–50 (LOW 0, NORMAL 10, HIGH 20, URGENT 30, CRITICAL 40) */
  @ApiInt({ example: 10 })
  priority: number;
  /** A lead's or admin's override of the priority */
  @ApiInt({ nullable: true })
  priority_override: number | null;
  requires_approval: boolean;
  @ApiUuid({ nullable: true })
  approval_id: string | null;
  /** Estimated cost in US dollars */
  @ApiProperty({ example: 3.5 })
  cost_estimate: number;
  /** Actual cost in US dollars, once the provider reports the run time */
  cost_usd: number | null;
  error_message: string | null;
  output_url: string | null;
  logs_url: string | null;
  /** The correlation id of the submitting request: every log line about this job carries it */
  @ApiProperty({ example: 'abc123def456' })
  correlation_id: string;
  /** Provider submissions so far */
  @ApiInt()
  attempt: number;
  @ApiInt()
  max_attempts: number;
  @ApiInt({ example: 86400 })
  max_runtime_seconds: number;
  /** Not dispatched before this (a scheduled start); null: as soon as the queue allows */
  @ApiDateTime({ nullable: true })
  start_after: string | null;
  /** Cancelled when still not dispatched this long after its submit; null: no limit */
  @ApiInt({ nullable: true, example: 3600 })
  max_wait_seconds: number | null;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  queued_at: string;
  @ApiDateTime({ nullable: true })
  started_at: string | null;
  @ApiDateTime({ nullable: true })
  completed_at: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata: Record<string, unknown>;
  is_active: boolean;
  is_terminal: boolean;
  @ApiInt({ nullable: true })
  duration_seconds: number | null;
  /** 1-based rank among waiting jobs in dispatch order; null when blocked, dispatched or finished */
  @ApiInt({ nullable: true, example: 2 })
  queue_position: number | null;
  /** The outputs kept in the artifact store, in the order the provider listed them */
  @ApiProperty({ type: [JobArtifactView] })
  artifacts: JobArtifactView[];
  /** Training progress read from the job's log; null until the log tells any */
  @ApiProperty({ type: JobProgressView, nullable: true })
  progress: JobProgressView | null;
  /** The job this one retries (`POST /api/cloud/jobs/:id/retry`) */
  @ApiUuid({ nullable: true })
  retry_of: string | null;
  /** The newest retry of this job */
  @ApiUuid({ nullable: true })
  retried_by: string | null;
}

/** A `warn` quota a submit passed. */
export class QuotaWarningView {
  @ApiUuid()
  quota_id: string;
  @ApiProperty({ enum: ['cost_daily', 'cost_monthly', 'jobs_per_hour', 'jobs_per_day'], example: 'cost_daily' })
  type: string;
  @ApiProperty({ example: 100 })
  limit: number;
  /** What the window holds with this job included */
  @ApiProperty({ example: 104.5 })
  used: number;
}

/** What a submission answers: the job's id, where it stands, and the trainer inputs it was given. */
export class SubmittedJobView extends TrainerInputsView {
  @ApiUuid({ example: uuidExample })
  job_id: string;
  @ApiEnum(JOB_STATUSES, 'JobStatus', { example: 'pending' })
  status: JobStatus;
  @ApiProperty({ example: false })
  requires_approval: boolean;
  /** The approval request holding the job, when a rule requires one */
  @ApiUuid()
  approval_id?: string;
  @ApiProperty({ example: 3.5 })
  cost_estimate: number;
  @ApiInt({ nullable: true, example: 1 })
  queue_position: number | null;
  /** Present (true) when this is the answer to a repeated idempotency key */
  @ApiProperty({ enum: [true] })
  idempotent_hit?: true;
  /** Present when the job passes a `warn` quota: accepted, but over that limit */
  @ApiProperty({ type: [QuotaWarningView], required: false })
  warnings?: QuotaWarningView[];
}

export class JobListView {
  @ApiProperty({ type: [JobView] })
  jobs: JobView[];
  /** Jobs matching the filters, beyond this page too */
  @ApiInt()
  total: number;
}

export class DeletedJobView {
  @ApiUuid()
  job_id: string;
  @ApiProperty({ enum: [true] })
  deleted: true;
}

export class CostEstimateView implements CostEstimate {
  @ApiProperty({ example: 'l40s' })
  hardware_profile: string;
  /** US dollars per second */
  @ApiProperty({ example: 0.000972222 })
  cost_per_second: number;
  @ApiProperty({ example: 3.5 })
  cost_per_hour: number;
  @ApiInt({ example: 3600 })
  estimated_duration_seconds: number;
  @ApiProperty({ example: 3.5 })
  estimated_cost: number;
  /** `history`: this organisation's completed jobs on the profile (90 days); else the config's estimate or 1 h */
  @ApiProperty({ enum: ['history', 'config', 'default'] })
  basis: 'history' | 'config' | 'default';
  /** Completed jobs the history estimate is based on */
  @ApiInt()
  sample_size: number;
}

export class HardwarePriceView {
  @ApiProperty({ example: 'h100-x2' })
  profile: string;
  /** US dollars per second, with this provider's overrides */
  cost_per_second: number;
}

export class ProviderView {
  @ApiProperty({ example: 'replicate' })
  name: string;
  /** Has the credentials it needs */
  configured: boolean;
  is_default: boolean;
  webhook_configured: boolean;
  @ApiProperty({ type: [HardwarePriceView] })
  hardware: HardwarePriceView[];
}

export class ProviderListView {
  @ApiProperty({ type: [ProviderView] })
  providers: ProviderView[];
  default_provider: string;
}

/** A provider's stored settings; the webhook secret is write-only (only whether one is set shows). */
export class ProviderConfigView {
  name: string;
  webhook_url: string | null;
  webhook_secret_set: boolean;
  version_override: string | null;
  /** Price overrides in US dollars per second, by profile (`h100-x2`) or base (`h100`) */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { h100: 0.002 } })
  hardware_info: Record<string, unknown>;
  /** Where webhooks may come from (empty: anywhere) */
  @ApiProperty({ type: [String], example: ['203.0.113.0/24'] })
  webhook_allowed_ips: string[];
  /** Where the API token in force comes from: set through the API, the environment, or none (never the token) */
  @ApiProperty({ enum: ['stored', 'env', 'none'] })
  token_source: 'stored' | 'env' | 'none';
  @ApiDateTime({ nullable: true })
  updated_at: string | null;
}

export class PollingStatusView {
  /** Polling runs on this instance now */
  is_active: boolean;
  /** The stored setting (null: the enterprise file or the automatic rule decides) */
  @ApiProperty({ type: Boolean, nullable: true })
  preference: boolean | null;
  /** Why polling is on or off, e.g. `auto: no webhook configured` */
  @ApiProperty({ example: 'auto: no webhook configured' })
  reason: string;
  @ApiInt({ example: 30 })
  interval_seconds: number;
}

export class WebhookReceiptView {
  @ApiProperty({ enum: [true] })
  ok: true;
  /** `applied`, `unchanged`, `duplicate` (a webhook-id seen in the last 24 h) or `unknown_prediction` */
  @ApiProperty({ enum: ['applied', 'unchanged', 'duplicate', 'unknown_prediction'] })
  outcome: string;
  @ApiUuid()
  job_id?: string;
}
