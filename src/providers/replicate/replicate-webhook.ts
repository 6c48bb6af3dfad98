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

  /**
   * Verifies with the known secrets (a rotated-out one during its overlap too); after a mismatch, once more with a
   * refreshed default secret (Replicate's own rotation).
   */
  private async verify(h: WebhookHeaders, rawBody: Buffer, now: Date): Promise<void> {
    const known = await this.secret(false, now);
    try {
      verifyWithAny(known.secrets, h, rawBody, now);
    } catch (err) {
      if (!(err instanceof InvalidSignatureError) || known.configured) throw err;
      const refreshed = await this.secret(true, now);
      if (refreshed.secrets[0] === known.secrets[0]) throw err;
      verifyWithAny(refreshed.secrets, h, rawBody, now);
    }
  }

  private async secret(rotated: boolean, now: Date): Promise<{ secrets: string[]; configured: boolean }> {
    try {
      return await this.replicate.webhookSecrets(rotated, now);
    } catch {
      // Logged once per fetch attempt by the secret cache, not once per webhook.
      throw new ProviderUnavailableError('Webhook secret unavailable; retry later');
    }
  }
}

/** Passes when any of `secrets` signed the delivery; else the first secret's error. */
function verifyWithAny(secrets: string[], h: WebhookHeaders, rawBody: Buffer, now: Date): void {
  let first: unknown;
  for (const secret of secrets) {
    try {
      verifyWebhook(secret, h, rawBody, now);
      return;
    } catch (err) {
      first ??= err;
    }
  }
  throw first;
}
