import { redactSecrets, redactString } from '../common/secrets';
import { isTerminal } from '../common/job-status';
import type { Job } from './job.entity';
import type { JobArtifactView, JobView, TrainerInputsView } from './jobs.view';

export type { JobView } from './jobs.view';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** What the trainer is given besides `config`, as the job's row keeps it. */
export type TrainerInputs = Pick<
  Job,
  'dataloaderConfig' | 'lycorisConfig' | 'dataset' | 'hubModelId' | 'maxTrainSteps' | 'secretNames'
>;

/**
 * The trainer inputs as submitted: the dataset as its URL or as the upload it came from (that upload's provider URL
 * is the service's business), and the secrets by name only. What may carry a credential is redacted as `config` is.
 */
export function trainerInputs(job: TrainerInputs): TrainerInputsView {
  const dataset = job.dataset;
  return {
    dataloader_config: redactSecrets(job.dataloaderConfig) as Record<string, unknown>[] | null,
    lycoris_config: redactSecrets(job.lycorisConfig) as Record<string, unknown> | null,
    dataset: !dataset
      ? null
      : dataset.upload_id
        ? { upload_id: dataset.upload_id }
        : { url: redactString(dataset.url) },
    hub_model_id: job.hubModelId,
    max_train_steps: job.maxTrainSteps,
    secrets: job.secretNames,
  };
}

export function jobView(
  job: Job,
  queuePosition: number | null = null,
  now: Date = new Date(),
  artifacts: JobArtifactView[] = [],
): JobView {
  const start = job.startedAt;
  const end = job.completedAt ?? (isTerminal(job.status) ? null : now);
  return {
    job_id: job.jobId,
    user_id: job.userId,
    org_id: job.orgId,
    provider: job.provider,
    external_id: job.externalId,
    status: job.status,
    config_name: redactString(job.configName),
    // A config may carry credentials (hf_token, a password in a URL…): responses never include them.
    config: redactSecrets(job.config) as Record<string, unknown>,
    ...trainerInputs(job),
    hardware_profile: job.hardwareProfile,
    priority: job.priority,
    priority_override: job.priorityOverride,
    requires_approval: job.requiresApproval,
    approval_id: job.approvalId,
    cost_estimate: job.costEstimate,
    cost_usd: job.costUsd,
    error_message: job.errorMessage,
    output_url: job.outputUrl,
    logs_url: job.logsUrl,
    correlation_id: job.correlationId,
    attempt: job.attempt,
    max_attempts: job.maxAttempts,
    max_runtime_seconds: job.maxRuntimeSeconds,
    created_at: job.createdAt.toISOString(),
    queued_at: job.queuedAt.toISOString(),
    started_at: iso(start),
    completed_at: iso(job.completedAt),
    metadata: job.metadata,
    is_active: !isTerminal(job.status),
    is_terminal: isTerminal(job.status),
    duration_seconds: start && end ? Math.max(0, Math.round((end.getTime() - start.getTime()) / 1000)) : null,
    queue_position: isTerminal(job.status) ? null : queuePosition,
    artifacts,
  };
}
