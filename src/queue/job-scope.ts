import { LogContext, runWithCorrelationId } from '../context';
import type { Job } from '../jobs/job.entity';

/** Work on one job logs under the job's own correlation id and fields (SPEC §2), whatever tick runs it. */
export function inJobScope<T>(job: Job, tickId: string, fn: () => T): T {
  return runWithCorrelationId(job.correlationId, () =>
    LogContext.run({ job_id: job.jobId, provider: job.provider, step: 'dispatch', tick_id: tickId }, fn),
  );
}
