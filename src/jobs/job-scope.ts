import { LogContext, switchCorrelationId } from '../context';
import type { Job } from './job.entity';

export interface JobScope {
  /** What is being done to the job: `dispatch`, `poll`, `webhook`, `timeout`… */
  step: string;
  /** The background tick doing it, when one is. */
  tickId?: string;
  /** Used only if the job carries no correlation id of its own. */
  fallbackCorrelationId?: string;
}

/**
 * Work on one job logs under the correlation id of the request that submitted it, with the job's fields,
 * whatever request, webhook or tick runs it.
 */
export function inJobScope<T>(job: Job, scope: JobScope, fn: () => T): T {
  const fields = {
    job_id: job.jobId,
    provider: job.provider,
    step: scope.step,
    ...(scope.tickId ? { tick_id: scope.tickId } : {}),
  };
  return switchCorrelationId(job.correlationId || scope.fallbackCorrelationId || job.correlationId, fn, fields);
}

/**
 * Runs fn in the job's scope when the work has one (a tick's dispatch or poll: the job's own correlation id), else
 * in the current request's correlation id with the job's id in every line (a cancel request logs under its own id).
 */
export function inScopeOf<T>(job: Job, scope: JobScope | undefined, fn: () => T): T {
  return scope ? inJobScope(job, scope, fn) : LogContext.run({ job_id: job.jobId }, fn);
}
