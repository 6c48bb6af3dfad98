import { isTerminal } from './job-status';
import type { Job } from './job.entity';

const SECRET_KEY = /token|secret|password|api[_-]?key|authorization|credential/i;

/** User config may carry credentials (hf_token…): responses never include them (SPEC §4). */
export function redactConfig(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactConfig);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) ? '[REDACTED]' : redactConfig(v),
      ]),
    );
  }
  return value;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export function jobView(job: Job, queuePosition: number | null = null, now: Date = new Date()) {
  const start = job.startedAt;
  const end = job.completedAt ?? (isTerminal(job.status) ? null : now);
  return {
    job_id: job.jobId,
    user_id: job.userId,
    org_id: job.orgId,
    provider: job.provider,
    external_id: job.externalId,
    status: job.status,
    config_name: job.configName,
    config: redactConfig(job.config),
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
    created_at: iso(job.createdAt),
    queued_at: iso(job.queuedAt),
    started_at: iso(start),
    completed_at: iso(job.completedAt),
    metadata: job.metadata,
    is_active: !isTerminal(job.status),
    is_terminal: isTerminal(job.status),
    duration_seconds: start && end ? Math.max(0, Math.round((end.getTime() - start.getTime()) / 1000)) : null,
    queue_position: isTerminal(job.status) ? null : queuePosition,
  };
}

export type JobView = ReturnType<typeof jobView>;
