import { redactSecrets, redactString } from '../common/secrets';
import { isTerminal } from '../common/job-status';
import type { Job } from './job.entity';
import type { JobView } from './jobs.view';

export type { JobView } from './jobs.view';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export function jobView(job: Job, queuePosition: number | null = null, now: Date = new Date()): JobView {
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
    progress: job.progress ?? null,
  };
}
