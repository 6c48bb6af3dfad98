import { inJobScope as inScope } from '../jobs/job-scope';
import type { Job } from '../jobs/job.entity';

/** The queue's dispatch step of a job, in the job's log scope (see jobs/job-scope). */
export function inJobScope<T>(job: Job, tickId: string, fn: () => T): T {
  return inScope(job, { step: 'dispatch', tickId }, fn);
}
