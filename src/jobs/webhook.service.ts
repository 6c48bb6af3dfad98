import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Transactional } from '../database/transactional';
import { getLogger } from '../logging';
import { ReplicateWebhookReader, type ReplicateWebhook } from '../providers';
import { EventsService } from '../events';
import { inJobScope } from './job-scope';
import { JobStateApplier } from './job-state-applier';
import type { Job } from './job.entity';
import { JobsRepository } from './jobs.repository';

const log = getLogger('simpletuner.cloud.jobs.webhooks');

export type WebhookOutcome = 'applied' | 'unchanged' | 'duplicate' | 'unknown_prediction';

/**
 * The incoming Replicate webhook, once the provider has verified and read it (ReplicateWebhookReader):
 * de-duplicate by webhook-id, then the transition function and a `cloud_job_update` event.
 */
@Injectable()
export class WebhookService {
  constructor(
    private readonly repo: JobsRepository,
    private readonly reader: ReplicateWebhookReader,
    private readonly applier: JobStateApplier,
    private readonly events: EventsService,
    private readonly clock: Clock,
  ) {}

  async handleReplicate(
    headers: Record<string, string | string[] | undefined>,
    rawBody: Buffer,
    now = this.clock.now(),
  ): Promise<{ outcome: WebhookOutcome; job_id?: string }> {
    const hook = await this.reader.read(headers, rawBody, now);
    const job = await this.findJob(hook.predictionId, hook.state.jobId ?? null);
    if (!job) {
      // Still record the id: a redelivery of the same message is then a plain duplicate.
      const fresh = await this.repo.recordWebhookDelivery(hook.webhookId, 'replicate', hook.predictionId);
      log.warning('Webhook for an unknown prediction', { prediction_id: hook.predictionId, duplicate: !fresh });
      return { outcome: fresh ? 'unknown_prediction' : 'duplicate' };
    }
    return inJobScope(job, { step: 'webhook' }, async () => {
      // Idempotent by offset (a redelivery adds nothing), so it needs no de-duplication of its own.
      await this.applier.recordLogs([{ job, state: hook.state }]);
      return this.apply(job, hook, now);
    });
  }

  /** The delivery record, the transition and cloud_job_update: one transaction. */
  @Transactional()
  private async apply(job: Job, hook: ReplicateWebhook, now: Date) {
    const { webhookId } = hook;
    const change = this.applier.plan(job, hook.state, await this.applier.ratesFor(job.provider));
    if (!(await this.repo.recordWebhookDelivery(webhookId, 'replicate', hook.predictionId))) {
      log.info('Duplicate webhook delivery acknowledged', { webhook_id: webhookId });
      return { outcome: 'duplicate' as const, job_id: job.jobId };
    }
    const result = change ? await this.applier.applyChange(job, change, 'webhook', now) : null;
    await this.events.publish({
      type: 'cloud_job_update',
      jobId: job.jobId,
      userId: job.userId,
      orgId: job.orgId,
      data: {
        provider: job.provider,
        external_id: hook.predictionId,
        provider_status: hook.providerStatus,
        webhook_id: webhookId,
        status: result?.job.status ?? job.status,
      },
    });
    log.info('Webhook received', {
      webhook_id: webhookId,
      provider_status: hook.providerStatus,
      changed: result?.changed ?? false,
    });
    return { outcome: result?.changed ? ('applied' as const) : ('unchanged' as const), job_id: job.jobId };
  }

  /** By prediction id; a job whose dispatch is not recorded yet is matched by the job_id in the input. */
  private async findJob(externalId: string, jobId: string | null): Promise<Job | null> {
    const byExternal = await this.repo.findOne({ provider: 'replicate', externalId });
    if (byExternal) return byExternal;
    if (!jobId || !/^[0-9a-f-]{36}$/i.test(jobId)) return null;
    return this.repo.findUndispatched(jobId, 'replicate');
  }

  /** Replay protection needs 24 h of ids, not more. */
  purgeDeliveries(): Promise<number> {
    return this.repo.purgeWebhookDeliveries();
  }
}
