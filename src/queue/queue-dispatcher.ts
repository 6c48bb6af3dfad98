import { Injectable } from '@nestjs/common';
import { Transactional } from '../database/transactional';
import { EventsService } from '../events';
import {
  inJobScope,
  isTerminal,
  Job,
  JobRecordsService,
  JobSecretsService,
  JobStatus,
  JobTransitionService,
} from '../jobs';
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
const dispatchScope = (tickId: string) => ({ step: 'dispatch', tickId });

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
    private readonly events: EventsService,
    private readonly recorder: DispatchRecorder,
    private readonly secrets: JobSecretsService,
  ) {}

  /**
   * Submits a claimed batch concurrently, then records the accepted ones RECORD_CHUNK to a transaction (chunks
   * concurrently), and every failure in a transaction of its own. A chunk that fails is recorded again job by job,
   * so one bad row never holds up the others.
   */
  async dispatchBatch(
    jobIds: string[],
    jobs: Map<string, Job>,
    token: string,
    now: Date,
    tickId: string,
  ): Promise<DispatchOutcome[]> {
    const accepted: Accepted[] = [];
    const outcomes: Promise<DispatchOutcome>[] = [];
    await Promise.all(
      jobIds.map(async (jobId) => {
        const job = jobs.get(jobId);
        if (!job) return void outcomes.push(Promise.resolve('lost'));
        await inJobScope(job, dispatchScope(tickId), async () => {
          const submitted = await this.submit(job);
          if ('externalId' in submitted) accepted.push(submitted);
          else outcomes.push(this.guard(() => this.recordFailure(jobId, token, submitted.error, now)));
        });
      }),
    );
    for (let i = 0; i < accepted.length; i += RECORD_CHUNK) {
      const chunk = accepted.slice(i, i + RECORD_CHUNK);
      const recorded = this.recordChunk(chunk, token, now, tickId).catch((err) => {
        log.warning('Recording a dispatch chunk failed; recording its jobs one by one', {
          error: err,
          jobs: chunk.length,
        });
        return Promise.all(
          chunk.map((a) =>
            inJobScope(a.job, dispatchScope(tickId), () =>
              this.guard(() => this.recordOne(a, token, now, 'dispatched')),
            ),
          ),
        );
      });
      outcomes.push(...chunk.map((_, k) => recorded.then((list) => list[k])));
    }
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

  /** A chunk recorded in one transaction, then its log lines and the work that must follow the commit. */
  private async recordChunk(chunk: Accepted[], token: string, now: Date, tickId: string): Promise<DispatchOutcome[]> {
    const records = await this.recordChunkInTransaction(chunk, token, now, tickId);
    return Promise.all(
      chunk.map(async (a, i) => {
        const r = records[i];
        if (r.recheck) return this.guard(() => this.recordOne(a, token, now, 'dispatched'));
        if (r.outcome === 'dispatched')
          inJobScope(a.job, dispatchScope(tickId), () => log.info('Job dispatched', { external_id: a.externalId }));
        if (r.cancel)
          await inJobScope(a.job, dispatchScope(tickId), () =>
            this.recorder.cancelAtProvider(a.provider, a.job.jobId, r.cancel!),
          );
        return r.outcome;
      }),
    );
  }

  /** Entries to running and the jobs through one batched transition, with their job_dispatched events. */
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
    const transitions = await this.transitions.transitionMany(
      mine.map((a) => ({
        jobId: a.job.jobId,
        to: statusAfterCreate(a.status),
        patch: { externalId: a.externalId, attempt: owned.get(a.job.jobId) },
      })),
      {
        source: 'queue.dispatch',
        now,
        scope: dispatchScope(tickId),
        locked: locked.filter((j) => owned.has(j.jobId)),
      },
    );
    const byJob = new Map(transitions.map((r) => [r.job.jobId, r]));
    await this.events.publishMany(
      mine
        .filter((a) => !isTerminal(byJob.get(a.job.jobId)!.previous))
        .map((a) => dispatchedEvent(byJob.get(a.job.jobId)!.job, a.externalId, owned.get(a.job.jobId)!)),
    );
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
        records.push({ outcome: 'finished', cancel });
        continue;
      }
      const cancel = r.job.cancelRequestedAt ? { externalId: a.externalId, duplicate: false } : undefined;
      records.push({ outcome: 'dispatched', cancel });
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
