import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { InvalidSignatureError, NotFoundError, ProviderUnavailableError, ValidationError } from '../common/errors';
import { getLogger } from '../logging';
import { predictionToState, ReplicateProvider } from '../providers/replicate/replicate.provider';
import type { ReplicatePrediction } from '../providers/replicate/replicate.types';
import { checkWebhookHeaders, verifyWebhook, WebhookHeaders } from '../providers/replicate/webhook-verifier';
import { JobEventPublisher } from './job-events';
import { inJobScope } from './job-scope';
import { JobStateApplier } from './job-state-applier';
import { Job } from './job.entity';

const log = getLogger('simpletuner.cloud.jobs.webhooks');

export type WebhookOutcome = 'applied' | 'unchanged' | 'duplicate' | 'unknown_prediction';

/** SPEC §5 incoming webhook: verify, de-duplicate by webhook-id, then the transition function. */
@Injectable()
export class WebhookService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly replicate: ReplicateProvider,
    private readonly applier: JobStateApplier,
    private readonly events: JobEventPublisher,
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
      const fresh = await this.recordDelivery(this.db.manager, h.id, prediction.id);
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

  private async apply(
    job: Job,
    state: ReturnType<typeof predictionToState>,
    webhookId: string,
    prediction: ReplicatePrediction,
    now: Date,
  ) {
    const overrides = await this.applier.ratesFor(job.provider);
    const change = this.applier.plan(job, state, overrides);
    return this.db.transaction(async (m) => {
      if (!(await this.recordDelivery(m, webhookId, prediction.id))) {
        log.info('Duplicate webhook delivery acknowledged', { webhook_id: webhookId });
        return { outcome: 'duplicate' as const, job_id: job.jobId };
      }
      const result = change ? await this.applier.applyIn(m, job, change, 'webhook', now) : null;
      await this.events.publish(m, {
        type: 'cloud_job_update',
        jobId: job.jobId,
        userId: job.userId,
        orgId: job.orgId,
        data: {
          job_id: job.jobId,
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
    });
  }

  /** true when this webhook-id was not seen in the last 24 h (and is now recorded). */
  private async recordDelivery(m: DataSource['manager'], webhookId: string, externalId: string): Promise<boolean> {
    const rows = (await m.query(
      `INSERT INTO webhook_deliveries (webhook_id, provider, external_id) VALUES ($1, 'replicate', $2)
       ON CONFLICT (webhook_id) DO UPDATE SET received_at = now(), external_id = EXCLUDED.external_id
         WHERE webhook_deliveries.received_at <= now() - interval '24 hours'
       RETURNING webhook_id`,
      [webhookId, externalId],
    )) as unknown[];
    return rows.length > 0;
  }

  /** By prediction id; a job whose dispatch is not recorded yet is matched by the job_id in the input. */
  private async findJob(externalId: string, jobId: string | null): Promise<Job | null> {
    const repo = this.db.getRepository(Job);
    const byExternal = await repo.findOneBy({ provider: 'replicate', externalId });
    if (byExternal) return byExternal;
    if (!jobId || !/^[0-9a-f-]{36}$/i.test(jobId)) return null;
    return repo.findOneBy({ jobId, provider: 'replicate', externalId: IsNull() });
  }

  /** Replay protection needs 24 h of ids, not more. */
  async purgeDeliveries(): Promise<number> {
    const res = (await this.db.query(
      `DELETE FROM webhook_deliveries WHERE received_at < now() - interval '24 hours'`,
    )) as [unknown, number];
    return Array.isArray(res) ? Number(res[1] ?? 0) : 0;
  }
}
