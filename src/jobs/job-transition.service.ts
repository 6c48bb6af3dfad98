import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { JobNotFoundError } from '../common/errors';
import { getLogger } from '../logging';
import { JobEventPublisher } from './job-events';
import { JobHooks } from './job-hooks';
import { canTransition, isTerminal, JobStatus } from './job-status';
import { Job } from './job.entity';

const log = getLogger('simpletuner.cloud.jobs');

/** Fields a transition may write besides the status. */
export type JobPatch = Partial<
  Pick<
    Job,
    | 'externalId'
    | 'errorMessage'
    | 'outputUrl'
    | 'logsUrl'
    | 'costUsd'
    | 'startedAt'
    | 'completedAt'
    | 'attempt'
    | 'metadata'
    | 'requiresApproval'
    | 'approvalId'
    | 'cancelRequestedAt'
  >
>;

export interface TransitionOptions {
  patch?: JobPatch;
  /** Who asks (poller, webhook, dispatcher, cancel, expiry, simulator): in the log line. */
  source: string;
  /** Time of the change (tests pass a clock); defaults to now. */
  now?: Date;
}

export interface TransitionResult {
  changed: boolean;
  job: Job;
  previous: JobStatus;
}

/** Applies the patch to `job` and returns the columns that really changed (empty = nothing to write). */
function applyPatch(job: Job, patch: JobPatch | undefined): Partial<Job> {
  const dirty: Partial<Job> = {};
  if (!patch) return dirty;
  for (const [key, value] of Object.entries(patch) as [keyof JobPatch, unknown][]) {
    if (value === undefined) continue;
    const current = job[key] as unknown;
    const same =
      current instanceof Date && value instanceof Date
        ? current.getTime() === value.getTime()
        : typeof value === 'object' && value !== null
          ? JSON.stringify(current) === JSON.stringify(value)
          : current === value;
    if (!same) {
      (job as unknown as Record<string, unknown>)[key] = value;
      (dirty as Record<string, unknown>)[key] = value;
    }
  }
  return dirty;
}

/** THE single transition function of SPEC §4: every writer of a job's status goes through it. */
@Injectable()
export class JobTransitionService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly hooks: JobHooks,
    private readonly events: JobEventPublisher,
  ) {}

  /**
   * Locks the job row in `manager`'s transaction; ignores (DEBUG) a backward, stale or post-terminal update; else
   * writes status + patch, publishes job_status_changed, and on a terminal status runs the terminal hooks in the
   * same transaction. Same status: only the patch is written (no event), never on a terminal job.
   */
  async transition(manager: EntityManager, jobId: string, to: JobStatus, opts: TransitionOptions): Promise<TransitionResult> {
    const repo = manager.getRepository(Job);
    const job = await repo.findOne({ where: { jobId }, lock: { mode: 'pessimistic_write' } });
    if (!job) throw new JobNotFoundError(jobId);
    const previous = job.status;
    const now = opts.now ?? new Date();

    if (previous === to && !isTerminal(previous)) {
      const dirty = applyPatch(job, opts.patch);
      if (Object.keys(dirty).length > 0) await repo.update({ jobId }, dirty as QueryDeepPartialEntity<Job>);
      return { changed: false, job, previous };
    }
    if (!canTransition(previous, to)) {
      log.debug('Ignored stale or backward job status update', {
        job_id: jobId,
        status: previous,
        requested_status: to,
        source: opts.source,
      });
      return { changed: false, job, previous };
    }

    // Only the changed columns are written: one UPDATE, no re-read.
    const dirty: Partial<Job> = { ...applyPatch(job, opts.patch), status: to };
    job.status = to;
    if (to === 'running' && !job.startedAt) dirty.startedAt = job.startedAt = now;
    if (isTerminal(to) && !job.completedAt) dirty.completedAt = job.completedAt = now;
    await repo.update({ jobId }, dirty as QueryDeepPartialEntity<Job>);

    await this.events.publish(manager, {
      type: 'job_status_changed',
      jobId: job.jobId,
      userId: job.userId,
      orgId: job.orgId,
      data: { job_id: job.jobId, status: to, previous_status: previous },
    });
    log.info(`Job status changed: ${previous} -> ${to}`, { job_id: jobId, status: to, previous_status: previous, source: opts.source });
    if (isTerminal(to)) await this.hooks.runTerminalHooks(manager, job, previous);
    return { changed: true, job, previous };
  }

  /** The same, in a transaction of its own (callers that hold none). */
  transitionNow(jobId: string, to: JobStatus, opts: TransitionOptions): Promise<TransitionResult> {
    return this.db.transaction((manager) => this.transition(manager, jobId, to, opts));
  }
}
