import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { AppConfig } from '../config';
import { EventsService, NewEvent } from '../events';
import { inJobScope as inScope, isTerminal, Job, JobRecordsService, JobStatus, JobTransitionService } from '../jobs';
import { getLogger } from '../logging';
import { ProviderCallError, ProviderRegistry, TrainingProvider } from '../providers';
import { QueueEntry, QueueEntryStatus } from './queue-entry.entity';
import { agedPriority, backoffMs } from './queue-priority';
import { QueueRepository } from './queue.repository';

const log = getLogger('simpletuner.cloud.queue');

/** The queue's dispatch step of a job, in the job's log scope. */
const inJobScope = <T>(job: Job, tickId: string, fn: () => T): T => inScope(job, { step: 'dispatch', tickId }, fn);

/** What happened to one claimed entry. */
export type DispatchOutcome =
  'dispatched' | 'adopted' | 'redispatch' | 'retry' | 'failed' | 'unknown' | 'lost' | 'finished';

/** Accepted submissions are recorded this many to a transaction (a claim's whole batch: one commit). */
const RECORD_CHUNK = 100;

interface Accepted {
  job: Job;
  provider: TrainingProvider;
  externalId: string;
  status: JobStatus;
}

interface Recorded {
  outcome: DispatchOutcome;
  /** A prediction to cancel at the provider once the transaction has committed. */
  cancel?: { externalId: string; duplicate: boolean };
}

const PROVIDER_STATUSES: readonly JobStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];

/**
 * Submits claimed entries and records each outcome in a short transaction of its own (none spans a provider
 * call). Every write is fenced by the claim's token, so a stalled dispatcher whose entry was taken over can never
 * record over it.
 */
@Injectable()
export class QueueDispatcher {
  constructor(
    private readonly tx: TransactionHost,
    private readonly config: AppConfig,
    private readonly repo: QueueRepository,
    private readonly registry: ProviderRegistry,
    private readonly transitions: JobTransitionService,
    private readonly jobs: JobRecordsService,
    private readonly events: EventsService,
  ) {}

  /**
   * Submits a claimed batch concurrently (outside any transaction), then records the accepted ones in short
   * transactions of RECORD_CHUNK jobs each (running concurrently), and every failure in a transaction of its own.
   * A chunk that fails is recorded again job by job, so one bad row never holds up the others.
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
        await inJobScope(job, tickId, async () => {
          let provider: TrainingProvider | undefined;
          try {
            provider = this.registry.get(job.provider);
            const submission = await provider.submit(job);
            accepted.push({ job, provider, externalId: submission.externalId, status: submission.status });
          } catch (err) {
            const e = provider
              ? err
              : new ProviderCallError(`Unknown provider ${job.provider}`, job.provider, { retryable: false });
            outcomes.push(this.guard(() => this.recordFailure(jobId, token, e, now)));
          }
        });
      }),
    );
    for (let i = 0; i < accepted.length; i += RECORD_CHUNK) {
      const chunk = accepted.slice(i, i + RECORD_CHUNK);
      const recorded = this.recordChunk(chunk, token, now, tickId).catch(async (err) => {
        log.warning('Recording a dispatch chunk failed; recording its jobs one by one', {
          error: err,
          jobs: chunk.length,
        });
        return Promise.all(
          chunk.map((a) =>
            inJobScope(a.job, tickId, () =>
              this.guard(() =>
                this.recordSuccess(a.job.jobId, token, a.externalId, a.status, now, a.provider, 'dispatched'),
              ),
            ),
          ),
        );
      });
      outcomes.push(...chunk.map((_, k) => recorded.then((list) => list[k])));
    }
    return Promise.all(outcomes);
  }

  /** Accepted submissions recorded in one short transaction: entries to running, the jobs in one batched transition. */
  private async recordChunk(chunk: Accepted[], token: string, now: Date, tickId: string): Promise<DispatchOutcome[]> {
    // After the commit: `replaces` = the index whose outcome the follow-up decides (taken-over entries).
    const followUps: { replaces: number | null; run: () => Promise<DispatchOutcome> }[] = [];
    const results = await this.tx.withTransaction(async () => {
      const locked = await this.transitions.lock(
        chunk.map((a) => a.job.jobId),
        new Map(chunk.map((a) => [a.job.jobId, a.job])),
      );
      const owned = await this.repo.markRunning(
        chunk.map((a) => a.job.jobId),
        token,
        now,
      );
      const mine = chunk.filter((a) => owned.has(a.job.jobId));
      const externalIds = new Map(mine.map((a) => [a.job.jobId, a.externalId]));
      const transitions = await this.transitions.transitionMany(
        mine.map((a) => ({
          jobId: a.job.jobId,
          to: PROVIDER_STATUSES.includes(a.status) ? a.status : 'queued',
          patch: { externalId: a.externalId, attempt: owned.get(a.job.jobId) },
        })),
        {
          source: 'queue.dispatch',
          now,
          scope: (job, fn) => inJobScope(job, tickId, fn),
          locked: locked.filter((j) => owned.has(j.jobId)),
          // Stored with the status changes, in one insert.
          alsoPublish: (rs) =>
            rs
              .filter((r) => !isTerminal(r.previous))
              .map(({ job }): NewEvent => ({
                type: 'job_dispatched',
                jobId: job.jobId,
                userId: job.userId,
                orgId: job.orgId,
                data: {
                  provider: job.provider,
                  external_id: externalIds.get(job.jobId),
                  attempt: owned.get(job.jobId),
                },
              })),
        },
      );
      const byJob = new Map(transitions.map((r) => [r.job.jobId, r]));
      const out: DispatchOutcome[] = [];
      for (const a of chunk) {
        const { job, externalId, provider } = a;
        const r = byJob.get(job.jobId);
        if (!r) {
          // Taken over meanwhile: the single-job path decides whether ours is a duplicate to cancel.
          followUps.push({
            replaces: out.length,
            run: () => this.recordSuccess(job.jobId, token, externalId, a.status, now, provider, 'dispatched'),
          });
          out.push('lost');
          continue;
        }
        if (r.job.externalId !== externalId) await this.jobs.setExternalIdIfMissing(job.jobId, externalId);
        if (isTerminal(r.previous)) {
          // Finished or cancelled while the create was in flight: release the slot, stop a cancelled one.
          await this.repo.finish(job.jobId, r.previous as QueueEntryStatus, now);
          if (r.previous === 'cancelled')
            followUps.push({
              replaces: null,
              run: () => this.cancelThen(provider, job, externalId, false, 'finished', tickId),
            });
          out.push('finished');
          continue;
        }
        if (r.job.cancelRequestedAt)
          followUps.push({
            replaces: null,
            run: () => this.cancelThen(provider, job, externalId, false, 'dispatched', tickId),
          });
        out.push('dispatched');
      }
      return out;
    });
    chunk.forEach((a, i) => {
      if (results[i] === 'dispatched')
        inJobScope(a.job, tickId, () => log.info('Job dispatched', { external_id: a.externalId }));
    });
    await Promise.all(
      followUps.map(async (f) => {
        const outcome = await this.guard(f.run);
        if (f.replaces !== null) results[f.replaces] = outcome;
      }),
    );
    return results;
  }

  private async cancelThen(
    provider: TrainingProvider,
    job: Job,
    externalId: string,
    duplicate: boolean,
    outcome: DispatchOutcome,
    tickId: string,
  ): Promise<DispatchOutcome> {
    await inJobScope(job, tickId, () => this.cancelAtProvider(provider, job.jobId, externalId, duplicate));
    return outcome;
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

  /**
   * A `dispatching` entry whose dispatcher went quiet: find the prediction carrying its job_id and adopt it, or
   * put the entry back to pending so it is dispatched (once) again. Never creates a prediction itself.
   */
  async reconcile(entry: QueueEntry, job: Job, token: string, now: Date): Promise<DispatchOutcome> {
    const provider = this.registry.get(job.provider);
    // A little before the entry joined the queue: clocks of the provider and of this host differ.
    const since = new Date(entry.queuedAt.getTime() - 10 * 60_000);
    const found = await provider.findByJobId(job.jobId, since);
    if (found) {
      log.info('Adopted prediction of an interrupted dispatch', { external_id: found.externalId });
      return this.recordSuccess(job.jobId, token, found.externalId, found.status ?? 'queued', now, provider, 'adopted');
    }
    return this.tx.withTransaction(async () => {
      const own = await this.ownEntry(job.jobId, token);
      if (!own) return 'lost';
      const { entry: current, job: fresh } = own;
      if (isTerminal(fresh.status)) {
        await this.repo.finish(job.jobId, fresh.status as QueueEntryStatus, now);
        return 'finished';
      }
      if (current.attempt >= current.maxAttempts) {
        await this.fail(current, 'Dispatch outcome unknown and no prediction found after the last attempt', now);
        return 'failed';
      }
      log.info('No prediction found for an interrupted dispatch; dispatching again', { attempt: current.attempt });
      await this.repo.update(job.jobId, this.backToPending(current, now, now), { status: 'dispatching', token });
      return 'redispatch';
    });
  }

  private async recordSuccess(
    jobId: string,
    token: string,
    externalId: string,
    status: JobStatus,
    now: Date,
    provider: TrainingProvider,
    success: 'dispatched' | 'adopted',
  ): Promise<DispatchOutcome> {
    const recorded = await this.tx.withTransaction(async (): Promise<Recorded> => {
      const own = await this.ownEntry(jobId, token);
      const job = own?.job ?? (await this.jobs.read([jobId]))[0];
      const entry = own?.entry;
      if (!entry) {
        // Taken over after a stall: unless the take-over adopted this very prediction, ours is a duplicate.
        return { outcome: 'lost', cancel: job.externalId === externalId ? undefined : { externalId, duplicate: true } };
      }
      if (isTerminal(job.status)) {
        // Cancelled (or finished by a webhook) while the create was in flight: keep the id, release the slot.
        await this.jobs.setExternalIdIfMissing(jobId, externalId);
        await this.repo.finish(jobId, job.status as QueueEntryStatus, now);
        return {
          outcome: 'finished',
          cancel: job.status === 'cancelled' ? { externalId, duplicate: false } : undefined,
        };
      }
      await this.repo.update(
        jobId,
        { status: 'running', lastError: null, updatedAt: now },
        { status: 'dispatching', token },
      );
      const to = PROVIDER_STATUSES.includes(status) ? status : 'queued';
      const result = await this.transitions.transition(jobId, to, {
        patch: { externalId, attempt: entry.attempt },
        source: success === 'adopted' ? 'queue.reconcile' : 'queue.dispatch',
        now,
      });
      if (result.job.externalId !== externalId) await this.jobs.setExternalIdIfMissing(jobId, externalId);
      await this.events.publish({
        type: 'job_dispatched',
        jobId,
        userId: job.userId,
        orgId: job.orgId,
        data: { provider: job.provider, external_id: externalId, attempt: entry.attempt },
      });
      return { outcome: success, cancel: job.cancelRequestedAt ? { externalId, duplicate: false } : undefined };
    });
    if (recorded.cancel)
      await this.cancelAtProvider(provider, jobId, recorded.cancel.externalId, recorded.cancel.duplicate);
    if (recorded.outcome === success)
      log.info(success === 'adopted' ? 'Job dispatch reconciled' : 'Job dispatched', { external_id: externalId });
    return recorded.outcome;
  }

  private async recordFailure(jobId: string, token: string, err: unknown, now: Date): Promise<DispatchOutcome> {
    const e = err instanceof ProviderCallError ? err : null;
    const message = err instanceof Error ? err.message : String(err);
    if (e?.outcomeUnknown) {
      // The create may have reached the provider: resending could make a second prediction. Reconcile later.
      log.warning('Dispatch outcome unknown; the entry stays dispatching until reconciled', { error: err });
      return 'unknown';
    }
    // Anything but a classified provider error (a bug before sending) is retried like a transient failure.
    const retryable = e ? e.retryable : true;
    return this.tx.withTransaction(async () => {
      const own = await this.ownEntry(jobId, token);
      if (!own) return 'lost';
      const { entry: current, job } = own;
      if (isTerminal(job.status) || job.cancelRequestedAt) {
        await this.repo.finish(job.jobId, isTerminal(job.status) ? (job.status as QueueEntryStatus) : 'cancelled', now);
        if (!isTerminal(job.status))
          await this.transitions.transition(job.jobId, 'cancelled', { source: 'queue.cancel', now });
        return 'finished';
      }
      if (retryable && current.attempt < current.maxAttempts) {
        const notBefore = new Date(now.getTime() + backoffMs(current.attempt));
        await this.repo.update(
          job.jobId,
          { ...this.backToPending(current, notBefore, now), lastError: message },
          { status: 'dispatching', token },
        );
        log.warning('Dispatch failed; will retry', {
          error: err,
          attempt: current.attempt,
          not_before: notBefore.toISOString(),
        });
        return 'retry';
      }
      const reason = retryable
        ? `Dispatch failed after ${current.attempt} attempts: ${message}`
        : `Provider rejected the job: ${message}`;
      await this.fail(current, reason, now);
      log.error('Dispatch failed; job failed', { error: err, attempt: current.attempt });
      return 'failed';
    });
  }

  /**
   * The job and its entry, both locked, if this claim still owns the entry. The job row is locked first: a status
   * transition (poll, webhook, cancel) locks the job and then releases the entry in its terminal hook, so the
   * queue must never hold an entry while it waits for a job.
   */
  private async ownEntry(jobId: string, token: string): Promise<{ entry: QueueEntry; job: Job } | null> {
    const [job] = await this.transitions.lock([jobId]);
    const entry = await this.repo.find(jobId, true);
    const owned = job && entry && entry.status === 'dispatching' && entry.dispatchToken === token;
    return owned ? { entry, job } : null;
  }

  private async fail(entry: QueueEntry, reason: string, now: Date): Promise<void> {
    await this.repo.finish(entry.jobId, 'failed', now, reason);
    await this.transitions.transition(entry.jobId, 'failed', {
      patch: { errorMessage: reason, attempt: entry.attempt },
      source: 'queue.dispatch',
      now,
    });
  }

  /**
   * Pending again from `notBefore`. Aging pauses while dispatching or backing off: pending_since moves forward by
   * that time, so the priority already earned is kept and the next step comes that much later.
   */
  private backToPending(entry: QueueEntry, notBefore: Date, now: Date): Partial<QueueEntry> {
    const away = notBefore.getTime() - (entry.dispatchedAt ?? now).getTime();
    const pendingSince = new Date((entry.pendingSince ?? now).getTime() + Math.max(0, away));
    const aged = agedPriority(
      entry.basePriority,
      entry.priorityOverride,
      pendingSince,
      notBefore,
      this.config.enterprise.starvationMinutes,
    );
    return {
      status: 'pending',
      notBefore: notBefore.getTime() > now.getTime() ? notBefore : null,
      pendingSince,
      effectivePriority: Math.max(entry.effectivePriority, aged.effective),
      nextAgingAt: aged.nextAgingAt,
      dispatchToken: null,
      updatedAt: now,
    };
  }

  /** A cancel that arrived while dispatching, or a duplicate prediction: stop it at the provider. */
  private async cancelAtProvider(
    provider: TrainingProvider,
    jobId: string,
    externalId: string,
    duplicate: boolean,
  ): Promise<void> {
    try {
      await provider.cancel(externalId);
      if (duplicate) {
        log.warning('Cancelled a duplicate prediction of a dispatch that was taken over', { external_id: externalId });
        return;
      }
      await this.transitions.transition(jobId, 'cancelled', { source: 'queue.cancel' });
      log.info('Carried out a cancel requested during dispatch', { external_id: externalId });
    } catch (err) {
      log.error('Failed to cancel prediction at provider', { error: err, external_id: externalId, duplicate });
    }
  }
}
