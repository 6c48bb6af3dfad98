import { isTerminal } from './job-status';
import type { Job } from './job.entity';
import type { JobView } from './jobs.view';

export type { JobView } from './jobs.view';

const SECRET_KEY = /token|secret|password|api[_-]?key|authorization|credential/i;
/** Deeper than this a config is shown as a marker: bodies are refused past 64 levels, older rows may be deeper. */
const MAX_VIEW_DEPTH = 64;
export const TRUNCATED = '[TRUNCATED]';

type Container = Record<string, unknown> | unknown[];

/**
 * User config may carry credentials (hf_token…): responses never include them (SPEC §4). A copy with secret-named
 * keys masked, made without recursion so that no stored config, however deep, can overflow the stack.
 */
export function redactConfig(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const copyOf = (v: object): Container => (Array.isArray(v) ? [] : {});
  const root = copyOf(value);
  const stack: Array<{ from: Container; to: Container; depth: number }> = [
    { from: value as Container, to: root, depth: 1 },
  ];
  while (stack.length > 0) {
    const { from, to, depth } = stack.pop()!;
    const isArray = Array.isArray(from);
    for (const [key, v] of Object.entries(from)) {
      let out: unknown = v;
      if (!isArray && SECRET_KEY.test(key)) out = '[REDACTED]';
      else if (v !== null && typeof v === 'object') {
        if (depth >= MAX_VIEW_DEPTH) out = TRUNCATED;
        else {
          out = copyOf(v);
          stack.push({ from: v as Container, to: out as Container, depth: depth + 1 });
        }
      }
      // defineProperty: a key named __proto__ stays a plain key of the copy.
      Object.defineProperty(to, key, { value: out, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}

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
    config_name: job.configName,
    config: redactConfig(job.config) as Record<string, unknown>,
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
  };
}
