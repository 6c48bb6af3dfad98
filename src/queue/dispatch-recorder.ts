import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { Transactional } from '../database/transactional';
import { EventsService, NewEvent } from '../events';
import { isTerminal, Job, JobRecordsService, JobStatus, JobTransitionService } from '../jobs';
import { getLogger } from '../logging';
import { ProviderCallError, TrainingProvider } from '../providers';
import { QueueEntry, QueueEntryStatus } from './queue-entry.entity';
import { agedPriority, backoffMs } from './queue-priority';
import { QueueRepository } from './queue.repository';

const log = getLogger('simpletuner.cloud.queue');

/** What happened to one claimed entry. */
export type DispatchOutcome =
  'dispatched' | 'adopted' | 'redispatch' | 'retry' | 'failed' | 'unknown' | 'lost' | 'finished';

/** A prediction to cancel at the provider once the recording transaction has committed. */
export interface PendingCancel {
  externalId: string;
  /** A second prediction of a dispatch that was taken over (the job itself goes on). */
  duplicate: boolean;
}

const PROVIDER_STATUSES: readonly JobStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];

/** The job status a provider's answer to a create stands for (anything else: accepted, not started). */
export function statusAfterCreate(status: JobStatus): JobStatus {
  return PROVIDER_STATUSES.includes(status) ? status : 'queued';
}

/** The one `job_dispatched` event: the provider accepted the job as this prediction, on this attempt. */
export function dispatchedEvent(job: Job, externalId: string, attempt: number): NewEvent {
  return {
    type: 'job_dispatched',
    jobId: job.jobId,
    userId: job.userId,
    orgId: job.orgId,
    data: { provider: job.provider, external_id: externalId, attempt },
  };
}

/**
 * One dispatch outcome recorded in a short transaction of its own, fenced by the claim's token: a stalled
 * dispatcher whose entry was taken over can never record over it. The batch path (QueueDispatcher) records accepted
 * submissions a hundred at a time and falls back to these for anything unusual.
 */
@Injectable()
export class DispatchRecorder {
  constructor(
    private readonly config: AppConfig,
    private readonly repo: QueueRepository,
    private readonly transitions: JobTransitionService,
    private readonly jobs: JobRecordsService,
    private readonly events: EventsService,
  ) {}

  /** The provider accepted (or a reconcile found) the prediction; returns what to cancel after the commit. */
  @Transactional()
  async recordSuccess(
    jobId: string,
    token: string,
    externalId: string,
    status: JobStatus,
    now: Date,
    success: 'dispatched' | 'adopted',
  ): Promise<{ outcome: DispatchOutcome; cancel?: PendingCancel }> {
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
      return { outcome: 'finished', cancel: job.status === 'cancelled' ? { externalId, duplicate: false } : undefined };
    }
    await this.repo.update(
      jobId,
      { status: 'running', lastError: null, updatedAt: now },
      { status: 'dispatching', token },
    );
    const result = await this.transitions.transition(jobId, statusAfterCreate(status), {
      patch: { externalId, attempt: entry.attempt },
      source: success === 'adopted' ? 'queue.reconcile' : 'queue.dispatch',
      now,
    });
    if (result.job.externalId !== externalId) await this.jobs.setExternalIdIfMissing(jobId, externalId);
    await this.events.publish(dispatchedEvent(job, externalId, entry.attempt));
    return { outcome: success, cancel: job.cancelRequestedAt ? { externalId, duplicate: false } : undefined };
  }

  /** The create failed: back off and retry, or fail the job (a 4xx, or the last attempt). */
  @Transactional()
  async recordFailure(jobId: string, token: string, err: unknown, now: Date): Promise<DispatchOutcome> {
    const own = await this.ownEntry(jobId, token);
    if (!own) return 'lost';
    const { entry, job } = own;
    if (isTerminal(job.status) || job.cancelRequestedAt) {
      await this.repo.finish(jobId, isTerminal(job.status) ? (job.status as QueueEntryStatus) : 'cancelled', now);
      if (!isTerminal(job.status))
        await this.transitions.transition(jobId, 'cancelled', { source: 'queue.cancel', now });
      return 'finished';
    }
    const message = err instanceof Error ? err.message : String(err);
    // Anything but a classified provider error (a bug before sending) is retried like a transient failure.
    const retryable = err instanceof ProviderCallError ? err.retryable : true;
    if (retryable && entry.attempt < entry.maxAttempts) {
      const notBefore = new Date(now.getTime() + backoffMs(entry.attempt));
      const back = { ...this.backToPending(entry, notBefore, now), lastError: message };
      await this.repo.update(jobId, back, { status: 'dispatching', token });
      log.warning('Dispatch failed; will retry', {
        error: err,
        attempt: entry.attempt,
        not_before: notBefore.toISOString(),
      });
      return 'retry';
    }
    const reason = retryable
      ? `Dispatch failed after ${entry.attempt} attempts: ${message}`
      : `Provider rejected the job: ${message}`;
    await this.fail(entry, reason, now);
    log.error('Dispatch failed; job failed', { error: err, attempt: entry.attempt });
    return 'failed';
  }

  /** A stalled dispatch with no prediction at the provider: pending again (once more), or failed after the last try. */
  @Transactional()
  async redispatchOrFail(jobId: string, token: string, now: Date): Promise<DispatchOutcome> {
    const own = await this.ownEntry(jobId, token);
    if (!own) return 'lost';
    const { entry, job } = own;
    if (isTerminal(job.status)) {
      await this.repo.finish(jobId, job.status as QueueEntryStatus, now);
      return 'finished';
    }
    if (entry.attempt >= entry.maxAttempts) {
      await this.fail(entry, 'Dispatch outcome unknown and no prediction found after the last attempt', now);
      return 'failed';
    }
    log.info('No prediction found for an interrupted dispatch; dispatching again', { attempt: entry.attempt });
    await this.repo.update(jobId, this.backToPending(entry, now, now), { status: 'dispatching', token });
    return 'redispatch';
  }

  /** A cancel that arrived while dispatching, or a duplicate prediction: stop it at the provider. */
  async cancelAtProvider(provider: TrainingProvider, jobId: string, cancel: PendingCancel): Promise<void> {
    try {
      await provider.cancel(cancel.externalId);
      if (cancel.duplicate) {
        log.warning('Cancelled a duplicate prediction of a dispatch that was taken over', {
          external_id: cancel.externalId,
        });
        return;
      }
      await this.transitions.transition(jobId, 'cancelled', { source: 'queue.cancel' });
      log.info('Carried out a cancel requested during dispatch', { external_id: cancel.externalId });
    } catch (err) {
      log.error('Failed to cancel prediction at provider', {
        error: err,
        external_id: cancel.externalId,
        duplicate: cancel.duplicate,
      });
    }
  }

  /**
   * The job and its entry, both locked, if this claim still owns the entry. The job row is locked first: a status
   * transition (poll, webhook, cancel) locks the job and then releases the entry in the job-ended pipeline, so the
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
}
