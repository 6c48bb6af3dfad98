import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { getLogger } from '../logging';
import { ProviderRegistry } from '../providers/provider-registry';
import { ProviderCallError, ProviderSubmission } from '../providers/provider.interface';
import { JobEventPublisher } from './job-events';
import { inJobScope } from './job-scope';
import { isTerminal } from './job-status';
import { JobTransitionService, TransitionResult } from './job-transition.service';
import { Job } from './job.entity';

const log = getLogger('simpletuner.cloud.jobs.dispatch');

/**
 * Hands a job to its provider. The queue (SPEC §6) owns dispatch order, limits and retries; until a queue hook
 * claims a job (`dispatchedByQueue`), submission dispatches directly through `dispatchInBackground`.
 * `recordSubmission` is the one way to record a provider's acceptance, for both paths.
 */
@Injectable()
export class JobDispatchService implements BeforeApplicationShutdown {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly registry: ProviderRegistry,
    private readonly transitions: JobTransitionService,
    private readonly events: JobEventPublisher,
  ) {}

  /** In the provider's acceptance transaction: status (queued/running), external id, attempt, job_dispatched. */
  async recordSubmission(
    manager: EntityManager,
    jobId: string,
    submission: ProviderSubmission,
    source = 'dispatch',
  ): Promise<TransitionResult> {
    const job = await manager.getRepository(Job).findOneByOrFail({ jobId });
    const result = await this.transitions.transition(manager, jobId, submission.status, {
      source,
      patch: { externalId: submission.externalId, attempt: job.attempt + 1 },
    });
    if (result.changed || result.job.externalId === submission.externalId) {
      await this.events.publish(manager, {
        type: 'job_dispatched',
        jobId,
        userId: job.userId,
        orgId: job.orgId,
        data: { job_id: jobId, provider: job.provider, external_id: submission.externalId, status: result.job.status },
      });
    }
    return result;
  }

  /** Direct dispatch after commit, under the job's correlation id; awaited at shutdown. */
  dispatchInBackground(job: Job): void {
    const p = inJobScope(job, { step: 'dispatch' }, () => this.dispatch(job.jobId)).catch((err) =>
      log.error('Dispatch failed', { job_id: job.jobId, error: err }),
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Submits one pending job (no transaction open during the provider call) and records the outcome. */
  async dispatch(jobId: string): Promise<void> {
    const job = await this.db.getRepository(Job).findOneBy({ jobId });
    if (!job || job.status !== 'pending' || job.externalId) return;
    const provider = this.registry.get(job.provider);
    let submission: ProviderSubmission | null;
    try {
      submission = await provider.submit(job);
    } catch (err) {
      if (!(err instanceof ProviderCallError) || !err.outcomeUnknown) {
        await this.transitions.transitionNow(jobId, 'failed', {
          source: 'dispatch',
          patch: {
            errorMessage: `Dispatch failed: ${(err as Error).message}`.slice(0, 2000),
            attempt: job.attempt + 1,
          },
        });
        log.warning('Dispatch failed; job failed', { error: err });
        return;
      }
      // The create may have reached the provider: look it up by job_id instead of sending it again.
      log.warning('Dispatch outcome unknown; reconciling by job_id', { error: err });
      const found = await provider.findByJobId(job.jobId, new Date(job.createdAt.getTime() - 60_000));
      submission = found ? { externalId: found.externalId, status: found.status ?? 'queued' } : null;
      if (!submission) {
        await this.transitions.transitionNow(jobId, 'failed', {
          source: 'dispatch',
          patch: {
            errorMessage: 'Dispatch outcome unknown and no prediction found for this job',
            attempt: job.attempt + 1,
          },
        });
        return;
      }
    }
    const accepted = submission;
    const result = await this.db.transaction((m) => this.recordSubmission(m, jobId, accepted));
    log.info('Job dispatched', { external_id: accepted.externalId, status: result.job.status });
    if (isTerminal(result.job.status) && result.job.externalId !== accepted.externalId) {
      // Cancelled while we were submitting: carry the cancel out at the provider now.
      await provider
        .cancel(accepted.externalId)
        .catch((err) => log.warning('Cancel after dispatch failed', { error: err }));
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
