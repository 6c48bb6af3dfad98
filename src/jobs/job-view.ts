import { redactSecrets, redactString } from '../common/secrets';
import { isTerminal } from '../common/job-status';
import type { JobDataset } from '../providers';
import type { Job } from './job.entity';
import type { JobArtifactView, JobView, TrainerInputsView } from './jobs.view';

export type { JobView } from './jobs.view';

/** The trainer inputs as stored: the dataset with its provider URL too when it came from an upload. */
type StoredInputs = Omit<TrainerInputsView, 'dataset'> & { dataset: JobDataset | null };

/**
 * A job's own fields as the database builds them for its view (JobViewsRepository): stored values, times as
 * PostgreSQL writes them in JSON (`2025-01-31T12:00:00.123456+00:00`); nothing redacted or derived yet.
 */
export type StoredJobView = Omit<
  JobView,
  'dataset' | 'is_active' | 'is_terminal' | 'duration_seconds' | 'queue_position' | 'artifacts'
> &
  StoredInputs;

/** A time as PostgreSQL writes it in JSON, to the millisecond (as pg's own parsing cuts it). */
const time = (t: string | null): Date | null => (t === null ? null : new Date(t));

/** What the trainer is given besides `config`, as the job's row keeps it. */
export type TrainerInputs = Pick<
  Job,
  'dataloaderConfig' | 'lycorisConfig' | 'dataset' | 'hubModelId' | 'maxTrainSteps' | 'secretNames'
>;

/**
 * The trainer inputs as submitted: the dataset as its URL or as the upload it came from (that upload's provider URL
 * is the service's business), and the secrets by name only. What may carry a credential is redacted as `config` is.
 */
function shownInputs(stored: StoredInputs): TrainerInputsView {
  const dataset = stored.dataset;
  return {
    dataloader_config: redactSecrets(stored.dataloader_config) as Record<string, unknown>[] | null,
    lycoris_config: redactSecrets(stored.lycoris_config) as Record<string, unknown> | null,
    dataset: !dataset
      ? null
      : dataset.upload_id
        ? { upload_id: dataset.upload_id }
        : { url: redactString(dataset.url) },
    hub_model_id: stored.hub_model_id,
    max_train_steps: stored.max_train_steps,
    secrets: stored.secrets,
  };
}

/** The trainer inputs of a job (or of a submission) as a response shows them. */
export function trainerInputs(job: TrainerInputs): TrainerInputsView {
  return shownInputs({
    dataloader_config: job.dataloaderConfig,
    lycoris_config: job.lycorisConfig,
    dataset: job.dataset,
    hub_model_id: job.hubModelId,
    max_train_steps: job.maxTrainSteps,
    secrets: job.secretNames,
  });
}

/**
 * The job as the API shows it: secrets redacted, what follows from its status and times added. Every field is
 * named in one object literal: spreading the stored row into a copy with overrides made V8 build each view as a
 * slow dictionary object, 30 µs a job instead of 1.
 */
export function jobView(
  stored: StoredJobView,
  queuePosition: number | null,
  now: Date,
  artifacts: JobArtifactView[],
): JobView {
  const terminal = isTerminal(stored.status);
  const started = time(stored.started_at);
  const completed = time(stored.completed_at);
  const start = started?.getTime() ?? null;
  const end = completed !== null ? completed.getTime() : terminal ? null : now.getTime();
  const inputs = shownInputs(stored);
  return {
    job_id: stored.job_id,
    user_id: stored.user_id,
    org_id: stored.org_id,
    provider: stored.provider,
    external_id: stored.external_id,
    status: stored.status,
    config_name: redactString(stored.config_name),
    // A config may carry credentials (hf_token, a password in a URL…): responses never include them.
    config: redactSecrets(stored.config) as Record<string, unknown>,
    dataloader_config: inputs.dataloader_config,
    lycoris_config: inputs.lycoris_config,
    dataset: inputs.dataset,
    hub_model_id: inputs.hub_model_id,
    max_train_steps: inputs.max_train_steps,
    secrets: inputs.secrets,
    hardware_profile: stored.hardware_profile,
    priority: stored.priority,
    priority_override: stored.priority_override,
    requires_approval: stored.requires_approval,
    approval_id: stored.approval_id,
    cost_estimate: stored.cost_estimate,
    cost_usd: stored.cost_usd,
    error_message: stored.error_message,
    output_url: stored.output_url,
    logs_url: stored.logs_url,
    correlation_id: stored.correlation_id,
    attempt: stored.attempt,
    max_attempts: stored.max_attempts,
    max_runtime_seconds: stored.max_runtime_seconds,
    start_after: time(stored.start_after)?.toISOString() ?? null,
    max_wait_seconds: stored.max_wait_seconds,
    created_at: time(stored.created_at)!.toISOString(),
    queued_at: time(stored.queued_at)!.toISOString(),
    started_at: started?.toISOString() ?? null,
    completed_at: completed?.toISOString() ?? null,
    metadata: stored.metadata,
    is_active: !terminal,
    is_terminal: terminal,
    duration_seconds: start !== null && end !== null ? Math.max(0, Math.round((end - start) / 1000)) : null,
    queue_position: terminal ? null : queuePosition,
    artifacts,
    progress: stored.progress ?? null,
    retry_of: stored.retry_of ?? null,
    retried_by: stored.retried_by ?? null,
  };
}
