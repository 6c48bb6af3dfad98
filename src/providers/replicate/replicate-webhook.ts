import { Injectable } from '@nestjs/common';
import { InvalidSignatureError, NotFoundError, ProviderUnavailableError, ValidationError } from '../../common/errors';
import { getLogger } from '../../logging';
import type { ProviderJobState } from '../provider.interface';
import { predictionToState, ReplicateProvider } from './replicate.provider';
import type { ReplicatePrediction } from './replicate.types';
import { checkWebhookHeaders, verifyWebhook, type WebhookHeaders } from '../../common/standard-webhooks';

const log = getLogger('simpletuner.cloud.jobs.webhooks');

/** A verified Replicate webhook: its delivery id and the prediction it reports. */
export interface ReplicateWebhook {
  webhookId: string;
  predictionId: string;
  /** Replicate's own status word (`processing`, `succeeded`…), as the event reports it. */
  providerStatus: string;
  state: ProviderJobState;
}

/**
 * Reads an incoming Replicate webhook: the Standard-Webhooks signature (with the configured secret, or Replicate's
 * default secret fetched and cached, fetched again once after a mismatch in case it was rotated), then the body as
 * a prediction. What the service does with it is the jobs module's.
 */
@Injectable()
export class ReplicateWebhookReader {
  constructor(private readonly replicate: ReplicateProvider) {}

  /** 404 when Replicate is not configured, 401 for a bad signature, 400 for a body that is not a prediction. */
  async read(
    headers: Record<string, string | string[] | undefined>,
    rawBody: Buffer,
    now: Date,
  ): Promise<ReplicateWebhook> {
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
    return {
      webhookId: h.id,
      predictionId: prediction.id,
      providerStatus: prediction.status,
      state: predictionToState(prediction),
    };
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
}
