import { Injectable } from '@nestjs/common';
import { Transactional } from '../database/transactional';
import {
  inJobScope as inScope,
  isTerminal,
  Job,
  JobRecordsService,
  JobSecretsService,
  JobStatus,
  JobTransitionService,
  logStatusChange,
} from '../jobs';
import type { TransitionResult } from '../jobs';
import { getLogger } from '../logging';
import { ProviderCallError, ProviderRegistry, TrainingProvider, type JobSecrets } from '../providers';
import {
  DispatchOutcome,
  dispatchedEvent,
  DispatchRecorder,
  PendingCancel,
  statusAfterCreate,
} from './dispatch-recorder';
import { QueueEntry, QueueEntryStatus } from './queue-entry.entity';
import { QueueRepository } from './queue.repository';

const log = getLogger('simpletuner.cloud.queue');

export type { DispatchOutcome } from './dispatch-recorder';

/** The queue's dispatch step of a job, in the job's log scope. */
const inJobScope = <T>(job: Job, tickId: string, fn: () => T): T => inScope(job, { step: 'dispatch', tickId }, fn);

/** Accepted submissions are recorded this many to a transaction (a claim's whole batch: one commit). */
const RECORD_CHUNK = 100;

interface Accepted {
  job: Job;
  provider: TrainingProvider;
  externalId: string;
  status: JobStatus;
}

/** How one accepted submission of a chunk was recorded, and what is left to do after the commit. */
interface ChunkRecord {
  outcome: DispatchOutcome;
  /** Taken over meanwhile: the single-job path decides (ours may be a duplicate to cancel). */
  recheck?: boolean;
  /** The job's transition, for its log line. */
  transition?: TransitionResult;
  cancel?: PendingCancel;
}

/**
 * Submits claimed entries outside any transaction and records the outcomes in short transactions (none spans a
 * provider call). Every write is fenced by the claim's token, so a stalled dispatcher whose entry was taken over
 * can never record over it.
 */
@Injectable()
export class QueueDispatcher {
  constructor(
    private readonly repo: QueueRepository,
    private readonly registry: ProviderRegistry,
    private readonly transitions: JobTransitionService,
    private readonly jobs: JobRecordsService,
    private readonly recorder: DispatchRecorder,
    private readonly secrets: JobSecretsService,
  ) {}

  /**
   * Submits a claimed batch concurrently, then records the accepted ones RECORD_CHUNK to a transaction (chunks
   * concurrently), and every failure in a transaction of its own. A chunk that fails is recorded again job by job,
   * so one bad row never holds up the others. Each job's submit, log lines and cancel run in one log scope of the job.
   */
  async dispatchBatch(
    jobIds: string[],
    jobs: Map<string, Job>,
    token: string,
    now: Date,
    tickId: string,
  ): Promise<DispatchOutcome[]> {
    const accepted: Accepted[] = [];
    let waiting = jobIds.length;
    let allSubmitted!: () => void;
    const submitted = new Promise<void>((resolve) => (allSubmitted = resolve));
    const reported = () => {
      if (--waiting === 0) allSubmitted();
    };
    let recordedAs!: (records: Map<string, ChunkRecord | null>) => void;
    const recorded = new Promise<Map<string, ChunkRecord | null>>((resolve) => (recordedAs = resolve));
    const outcomes = jobIds.map((jobId): Promise<DispatchOutcome> => {
      const job = jobs.get(jobId);
      if (!job) {
        reported();
        return Promise.resolve('lost');
      }
      return inJobScope(job, tickId, async () => {
        const result = await this.submit(job);
        if (!('externalId' in result)) {
          reported();
          return this.guard(() => this.recordFailure(jobId, token, result.error, now));
        }
        accepted.push(result);
        reported();
        return this.afterRecord(result, (await recorded).get(jobId), token, now);
      });
    });
    if (jobIds.length > 0) await submitted;
    // A chunk that fails is already left to its jobs; anything else unexpected leaves all of them to theirs.
    recordedAs(await this.recordAccepted(accepted, token, now, tickId).catch(() => new Map<string, null>()));
    return Promise.all(outcomes);
  }

  /**
   * A `dispatching` entry whose dispatcher went quiet: find the prediction carrying its job_id and adopt it, or
   * put the entry back to pending so it is dispatched (once) again. Never creates a prediction itself.
   */
  async reconcile(entry: QueueEntry, job: Job, token: string, now: Date): Promise<DispatchOutcome> {
    const provider = this.registry.get(job.provider);
    // A little before the entry joined the queue: clocks of the provider and of this host differ.
    const since = new Date(entry.queuedAt.getTime() - 10 * 60_000);
    const found = await provider.findByJobId(job.jobId, since);
    if (!found) return this.recorder.redispatchOrFail(job.jobId, token, now);
    log.info('Adopted prediction of an interrupted dispatch', { external_id: found.externalId });
    const accepted = { job, provider, externalId: found.externalId, status: found.status ?? 'queued' };
    return this.recordOne(accepted, token, now, 'adopted');
  }

  private async submit(job: Job): Promise<Accepted | { error: unknown }> {
    let provider: TrainingProvider;
    try {
      provider = this.registry.get(job.provider);
    } catch {
      return { error: new ProviderCallError(`Unknown provider ${job.provider}`, job.provider, { retryable: false }) };
    }
    let secrets: JobSecrets | undefined;
    try {
      // Opened for this call only: the values live in no other object once it returns.
      if (job.secretNames.length > 0) secrets = await this.secrets.open(job.jobId);
    } catch (cause) {
      const message = `The job's secrets cannot be opened (was the secret key rotated out?)`;
      return { error: new ProviderCallError(message, job.provider, { retryable: false, cause }) };
    }
    try {
      const submission = await provider.submit(job, secrets);
      return { job, provider, externalId: submission.externalId, status: submission.status };
    } catch (error) {
      return { error };
    }
  }

  /** The accepted submissions, RECORD_CHUNK to a transaction; the jobs of a chunk that failed map to null. */
  private async recordAccepted(
    accepted: Accepted[],
    token: string,
    now: Date,
    tickId: string,
  ): Promise<Map<string, ChunkRecord | null>> {
    const records = new Map<string, ChunkRecord | null>();
    const chunks: Accepted[][] = [];
    for (let i = 0; i < accepted.length; i += RECORD_CHUNK) chunks.push(accepted.slice(i, i + RECORD_CHUNK));
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          const list = await this.recordChunkInTransaction(chunk, token, now, tickId);
          chunk.forEach((a, k) => records.set(a.job.jobId, list[k]));
        } catch (err) {
          log.warning('Recording a dispatch chunk failed; recording its jobs one by one', {
            error: err,
            jobs: chunk.length,
          });
          for (const a of chunk) records.set(a.job.jobId, null);
        }
      }),
    );
    return records;
  }

  /** After the chunk's commit, in the job's log scope: its log lines and cancel, or its own recording. */
  private async afterRecord(
    a: Accepted,
    r: ChunkRecord | null | undefined,
    token: string,
    now: Date,
  ): Promise<DispatchOutcome> {
    if (!r || r.recheck) return this.guard(() => this.recordOne(a, token, now, 'dispatched'));
    if (r.transition?.changed) logStatusChange(r.transition, 'queue.dispatch');
    if (r.outcome === 'dispatched') log.info('Job dispatched', { external_id: a.externalId });
    if (r.cancel) await this.recorder.cancelAtProvider(a.provider, a.job.jobId, r.cancel);
    return r.outcome;
  }

  /**
   * Entries to running and the jobs through one batched transition, whose insert carries the job_dispatched events
   * too. Its status lines are logged by afterRecord, in each job's scope.
   */
  @Transactional()
  private async recordChunkInTransaction(
    chunk: Accepted[],
    token: string,
    now: Date,
    tickId: string,
  ): Promise<ChunkRecord[]> {
    const ids = chunk.map((a) => a.job.jobId);
    const locked = await this.transitions.lock(ids, new Map(chunk.map((a) => [a.job.jobId, a.job])));
    const owned = await this.repo.markRunning(ids, token, now);
    const mine = chunk.filter((a) => owned.has(a.job.jobId));
    const lockedMine = locked.filter((j) => owned.has(j.jobId));
    // Built before the transition changes the rows: a job that ended meanwhile gets no job_dispatched.
    const before = new Map(lockedMine.map((j) => [j.jobId, j]));
    const alsoPublish = mine.flatMap((a) => {
      const job = before.get(a.job.jobId);
      return job && !isTerminal(job.status) ? [dispatchedEvent(job, a.externalId, owned.get(job.jobId)!)] : [];
    });
    const transitions = await this.transitions.transitionMany(
      mine.map((a) => ({
        jobId: a.job.jobId,
        to: statusAfterCreate(a.status),
        patch: { externalId: a.externalId, attempt: owned.get(a.job.jobId) },
      })),
      {
        source: 'queue.dispatch',
        now,
        scope: { step: 'dispatch', tickId },
        locked: lockedMine,
        alsoPublish,
        callerLogs: true,
      },
    );
    const byJob = new Map(transitions.map((r) => [r.job.jobId, r]));
    const records: ChunkRecord[] = [];
    for (const a of chunk) {
      const r = byJob.get(a.job.jobId);
      if (!r) {
        records.push({ outcome: 'lost', recheck: true });
        continue;
      }
      if (r.job.externalId !== a.externalId) await this.jobs.setExternalIdIfMissing(a.job.jobId, a.externalId);
      if (isTerminal(r.previous)) {
        // Finished or cancelled while the create was in flight: release the slot, stop a cancelled one.
        await this.repo.finish(a.job.jobId, r.previous as QueueEntryStatus, now);
        const cancel = r.previous === 'cancelled' ? { externalId: a.externalId, duplicate: false } : undefined;
        records.push({ outcome: 'finished', transition: r, cancel });
        continue;
      }
      const cancel = r.job.cancelRequestedAt ? { externalId: a.externalId, duplicate: false } : undefined;
      records.push({ outcome: 'dispatched', transition: r, cancel });
    }
    return records;
  }

  /** One accepted (or adopted) prediction recorded on its own, then its cancel and log line after the commit. */
  private async recordOne(
    a: Accepted,
    token: string,
    now: Date,
    success: 'dispatched' | 'adopted',
  ): Promise<DispatchOutcome> {
    const recorded = await this.recorder.recordSuccess(a.job.jobId, token, a.externalId, a.status, now, success);
    if (recorded.cancel) await this.recorder.cancelAtProvider(a.provider, a.job.jobId, recorded.cancel);
    if (recorded.outcome === success)
      log.info(success === 'adopted' ? 'Job dispatch reconciled' : 'Job dispatched', { external_id: a.externalId });
    return recorded.outcome;
  }

  private recordFailure(jobId: string, token: string, err: unknown, now: Date): Promise<DispatchOutcome> {
    if (err instanceof ProviderCallError && err.outcomeUnknown) {
      // The create may have reached the provider: resending could make a second prediction. Reconcile later.
      log.warning('Dispatch outcome unknown; the entry stays dispatching until reconciled', { error: err });
      return Promise.resolve('unknown');
    }
    return this.recorder.recordFailure(jobId, token, err, now);
  }

  private async guard(fn: () => Promise<DispatchOutcome>): Promise<DispatchOutcome> {
    try {
      return await fn();
    } catch (err) {
      // The entry stays `dispatching` and is reconciled after the grace period.
      log.error('Failed to record dispatch outcome', { error: err });
      return 'unknown';
    }
  }
}
