import { Injectable } from '@nestjs/common';
import { Transactional } from '../database/transactional';
import { JobNotFoundError } from '../common/errors';
import { EventsService, NewEvent } from '../events';
import { getLogger } from '../logging';
import { Clock } from '../common/clock';
import { inScopeOf, JobScope } from './job-scope';
import { JobEndedPipeline } from './pipeline/job-ended.pipeline';
import type { EndedJob } from './pipeline/steps';
import { canTransition, isTerminal, JobStatus } from '../common/job-status';
import { Job } from './job.entity';
import { ColumnChanges, JobsRepository } from './jobs.repository';

const log = getLogger('simpletuner.cloud.jobs');

/** Fields a transition may write besides the status. */
export type JobPatch = Partial<
  Pick<
    Job,
    | 'externalId'
    | 'errorMessage'
    | 'outputUrl'
    | 'outputUrls'
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
  /** Time of the change; defaults to the clock's now. */
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

/** The line every status change logs, in the log scope of the caller (see BatchTransitionOptions.callerLogs). */
export function logStatusChange({ job, previous }: TransitionResult, source: string): void {
  log.info(`Job status changed: ${previous} -> ${job.status}`, {
    job_id: job.jobId,
    status: job.status,
    previous_status: previous,
    source,
  });
}

/** One job's requested change in a batch. */
export interface TransitionRequest {
  jobId: string;
  to: JobStatus;
  patch?: JobPatch;
}

export interface BatchTransitionOptions {
  source: string;
  now?: Date;
  /** The per-job log scope of the work doing it (a tick's dispatch or poll); absent: the current request's. */
  scope?: JobScope;
  /** The rows, already locked by the caller with lock() in this transaction (saves reading them twice). */
  locked?: Job[];
  /** More events of the same change (the dispatcher's job_dispatched), inserted with the status events in one go. */
  alsoPublish?: NewEvent[];
  /**
   * The caller logs each change itself with logStatusChange(), in a log scope of the job it already holds (the
   * dispatcher's, after the commit): a batch of a hundred then opens no log scope of its own per job.
   */
  callerLogs?: boolean;
}

interface Decision {
  result: TransitionResult;
  /** Columns to write (empty: nothing). */
  dirty: Partial<Job>;
}

/**
 * THE single transition function: every writer of a job's status (poller, webhook, dispatcher, cancel, expiry,
 * simulator) goes through it, and statuses only move forward.
 */
@Injectable()
export class JobTransitionService {
  constructor(
    private readonly repo: JobsRepository,
    private readonly ended: JobEndedPipeline,
    private readonly events: EventsService,
    private readonly clock: Clock,
  ) {}

  /**
   * Locks the job row in the current transaction (one of its own when there is none); ignores (DEBUG) a backward,
   * stale or post-terminal update; else writes status + patch, publishes job_status_changed, and on a terminal
   * status runs the job-ended pipeline in the same transaction. Same status: only the patch is written (no event),
   * never on a terminal job.
   */
  @Transactional()
  async transition(jobId: string, to: JobStatus, opts: TransitionOptions): Promise<TransitionResult> {
    const [result] = await this.transitionMany([{ jobId, to, patch: opts.patch }], opts);
    return result;
  }

  /**
   * The same rule for many jobs at once, with the same outcome as one call per job: the rows are locked in one
   * statement (in job_id order, as everywhere), written with one UPDATE per set of changed columns, and the events
   * inserted in one statement. Results come in request order; a job id may appear only once.
   */
  @Transactional()
  async transitionMany(requests: TransitionRequest[], opts: BatchTransitionOptions): Promise<TransitionResult[]> {
    if (requests.length === 0) return [];
    const ids = requests.map((r) => r.jobId);
    if (new Set(ids).size !== ids.length) throw new Error('transitionMany: a job id appears twice in one batch');
    const now = opts.now ?? this.clock.now();
    const locked = opts.locked ?? (await this.lock(ids));
    const byId = new Map(locked.map((j) => [j.jobId, j]));
    const decisions = requests.map((r) => {
      const job = byId.get(r.jobId);
      if (!job) throw new JobNotFoundError(r.jobId);
      return this.decide(job, r, now, opts);
    });
    await this.writeChanges(decisions);

    const changed = decisions.filter((d) => d.result.changed).map((d) => d.result);
    const results = decisions.map((d) => d.result);
    await this.events.record([
      ...changed.map(({ job, previous }): NewEvent => ({
        type: 'job_status_changed',
        jobId: job.jobId,
        userId: job.userId,
        orgId: job.orgId,
        data: { status: job.status, previous_status: previous },
      })),
      ...(opts.alsoPublish ?? []),
    ]);
    const ended: EndedJob[] = [];
    for (const result of changed) {
      if (!opts.callerLogs) inScopeOf(result.job, opts.scope, () => logStatusChange(result, opts.source));
      if (isTerminal(result.job.status)) ended.push({ job: result.job, previous: result.previous, scope: opts.scope });
    }
    await this.ended.run(ended);
    return results;
  }

  /**
   * Locks these jobs' rows in the current transaction, in job_id order (the lock order everywhere), and reads them.
   * A caller holding copies of the jobs passes them: what never changes after submit (the config) is not read again.
   */
  lock(jobIds: string[], copies?: Map<string, Job>): Promise<Job[]> {
    return this.repo.read(jobIds, { lock: true, copies });
  }

  /** What the rule makes of one request; applies it to the loaded entity (nothing is written yet). */
  private decide(job: Job, r: TransitionRequest, now: Date, opts: BatchTransitionOptions): Decision {
    const previous = job.status;
    if (previous === r.to && !isTerminal(previous)) {
      return { result: { changed: false, job, previous }, dirty: applyPatch(job, r.patch) };
    }
    if (!canTransition(previous, r.to)) {
      inScopeOf(job, opts.scope, () =>
        log.debug('Ignored stale or backward job status update', {
          job_id: job.jobId,
          status: previous,
          requested_status: r.to,
          source: opts.source,
        }),
      );
      return { result: { changed: false, job, previous }, dirty: {} };
    }
    const dirty: Partial<Job> = { ...applyPatch(job, r.patch), status: r.to };
    job.status = r.to;
    if (r.to === 'running' && !job.startedAt) dirty.startedAt = job.startedAt = now;
    if (isTerminal(r.to) && !job.completedAt) dirty.completedAt = job.completedAt = now;
    return { result: { changed: true, job, previous }, dirty };
  }

  /** Only the changed columns are written, no re-read: one UPDATE per distinct set of columns (usually one). */
  private async writeChanges(decisions: Decision[]): Promise<void> {
    const groups = new Map<string, ColumnChanges>();
    for (const d of decisions) {
      const columns = (Object.keys(d.dirty) as (keyof Job)[]).sort();
      if (columns.length === 0) continue;
      const key = columns.join(',');
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { columns, rows: [] }));
      group.rows.push({ jobId: d.result.job.jobId, values: d.dirty });
    }
    for (const group of groups.values()) await this.repo.writeChanges(group);
  }
}
