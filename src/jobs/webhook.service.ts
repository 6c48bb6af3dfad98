import { Injectable } from '@nestjs/common';
import { Transactional } from '../database/transactional';
import { InvalidSignatureError, NotFoundError, ProviderUnavailableError, ValidationError } from '../common/errors';
import { getLogger } from '../logging';
import {
  checkWebhookHeaders,
  predictionToState,
  ReplicateProvider,
  verifyWebhook,
  type ReplicatePrediction,
  type WebhookHeaders,
} from '../providers';
import { EventsService } from '../events';
import { inJobScope } from './job-scope';
import { JobStateApplier } from './job-state-applier';
import type { Job } from './job.entity';
import { JobsRepository } from './jobs.repository';

const log = getLogger('simpletuner.cloud.jobs.webhooks');

export type WebhookOutcome = 'applied' | 'unchanged' | 'duplicate' | 'unknown_prediction';

/** The incoming Replicate webhook: verify, de-duplicate by webhook-id, then the transition function. */
@Injectable()
export class WebhookService {
  constructor(
    private readonly repo: JobsRepository,
    private readonly replicate: ReplicateProvider,
    private readonly applier: JobStateApplier,
    private readonly events: EventsService,
  ) {}

  async handleReplicate(
    headers: Record<string, string | string[] | undefined>,
    rawBody: Buffer,
    now = new Date(),
  ): Promise<{ outcome: WebhookOutcome; job_id?: string }> {
    if (!this.replicate.isConfigured()) throw new NotFoundError('Replicate is not configured on this service');
    let h: WebhookHeaders;
    try {
      h = checkWebhookHeaders(headers, now);
      await this.verify(h, rawBody, now);
    } catch (err) {
      if (err instanceof InvalidSignatureError) log.warning('Rejected a webhook', { reason: err.message });
      throw err;
    }

    let prediction: ReplicatePrediction;
    try {
      prediction = JSON.parse(rawBody.toString('utf8')) as ReplicatePrediction;
    } catch {
      throw new ValidationError('Webhook body is not JSON');
    }
    if (!prediction || typeof prediction.id !== 'string' || typeof prediction.status !== 'string') {
      throw new ValidationError('Webhook body is not a prediction', { body: 'id and status are required' });
    }
    const state = predictionToState(prediction);
    const job = await this.findJob(prediction.id, state.jobId ?? null);
    if (!job) {
      // Still record the id: a redelivery of the same message is then a plain duplicate.
      const fresh = await this.repo.recordWebhookDelivery(h.id, 'replicate', prediction.id);
      log.warning('Webhook for an unknown prediction', { prediction_id: prediction.id, duplicate: !fresh });
      return { outcome: fresh ? 'unknown_prediction' : 'duplicate' };
    }
    return inJobScope(job, { step: 'webhook' }, () => this.apply(job, state, h.id, prediction, now));
  }

  /** Verifies with the known secret; after a mismatch, once more with a refreshed default secret (rotation). */
  private async verify(h: WebhookHeaders, rawBody: Buffer, now: Date): Promise<void> {
    const known = await this.secret(false);
    try {
      verifyWebhook(known.secret, h, rawBody, now);
    } catch (err) {
      if (!(err instanceof InvalidSignatureError) || known.configured) throw err;
      const refreshed = await this.secret(true);
      if (refreshed.secret === known.secret) throw err;
      verifyWebhook(refreshed.secret, h, rawBody, now);
    }
  }

  private async secret(rotated: boolean): Promise<{ secret: string; configured: boolean }> {
    try {
      return await this.replicate.webhookSecret(rotated);
    } catch {
      // Logged once per fetch attempt by the secret cache, not once per webhook.
      throw new ProviderUnavailableError('Webhook secret unavailable; retry later');
    }
  }

  /** The delivery record, the transition and cloud_job_update: one transaction. */
  @Transactional()
  private async apply(
    job: Job,
    state: ReturnType<typeof predictionToState>,
    webhookId: string,
    prediction: ReplicatePrediction,
    now: Date,
  ) {
    const change = this.applier.plan(job, state, await this.applier.ratesFor(job.provider));
    if (!(await this.repo.recordWebhookDelivery(webhookId, 'replicate', prediction.id))) {
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
        external_id: prediction.id,
        provider_status: prediction.status,
        webhook_id: webhookId,
        status: result?.job.status ?? job.status,
      },
    });
    log.info('Webhook received', {
      webhook_id: webhookId,
      provider_status: prediction.status,
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
