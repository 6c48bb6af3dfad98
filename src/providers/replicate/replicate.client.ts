import type { Readable } from 'node:stream';
import {
  CircuitOpenError,
  HttpClient,
  HttpClientFactory,
  HttpClientOptions,
  HttpNetworkError,
  HttpOutcomeUnknownError,
  HttpStatusError,
  HttpTimeoutError,
} from '../../http';
import { ProviderCallError } from '../provider.interface';
import { BudgetExhaustedError, CallBudget } from '../shared-rate-budget';
import type { CreatePredictionBody, ReplicatePage, ReplicatePrediction } from './replicate.types';
import { fileUploadBody, ReplicateFile } from './replicate-files';

export interface ReplicateClientOptions {
  baseUrl: string;
  /** The API token, or where to read it before each call (a token changed through the API applies at once). */
  token: string | undefined | (() => Promise<string | undefined>);
  /** Circuit-breaker name; the app uses `replicate` (one breaker per provider and app). */
  name?: string;
  timeoutMs?: number;
  retry?: HttpClientOptions['retry'];
  breaker?: HttpClientOptions['breaker'];
  /** Waited on before every call (Replicate limits creates and other calls separately); none = unlimited. */
  budget?: CallBudget;
}

const PROVIDER = 'replicate';

/** Classifies an HTTP client failure for the dispatcher and the API. */
function toProviderCallError(err: unknown, what: string): ProviderCallError {
  if (err instanceof ProviderCallError) return err;
  if (err instanceof BudgetExhaustedError) {
    // Never sent: as retryable as Replicate's own 429.
    return new ProviderCallError(`Replicate ${what}: ${err.message}`, PROVIDER, {
      retryable: true,
      status: 429,
      cause: err,
    });
  }
  if (err instanceof CircuitOpenError) {
    return new ProviderCallError(`Replicate is unavailable (circuit open): ${what}`, PROVIDER, {
      retryable: true,
      circuitOpen: true,
      cause: err,
    });
  }
  if (err instanceof HttpOutcomeUnknownError) {
    return new ProviderCallError(`Replicate ${what}: outcome unknown`, PROVIDER, {
      retryable: false,
      outcomeUnknown: true,
      cause: err,
    });
  }
  if (err instanceof HttpStatusError) {
    const detail = typeof err.body === 'object' && err.body ? (err.body as { detail?: unknown }).detail : undefined;
    const retryable = err.status === 429 || err.status >= 500;
    const suffix = typeof detail === 'string' ? `: ${detail.slice(0, 200)}` : '';
    return new ProviderCallError(`Replicate ${what} failed with HTTP ${err.status}${suffix}`, PROVIDER, {
      retryable,
      status: err.status,
      cause: err,
    });
  }
  if (err instanceof HttpTimeoutError || err instanceof HttpNetworkError) {
    return new ProviderCallError(`Replicate ${what} failed: ${err.message}`, PROVIDER, { retryable: true, cause: err });
  }
  return new ProviderCallError(`Replicate ${what} failed: ${(err as Error)?.message ?? String(err)}`, PROVIDER, {
    retryable: true,
    cause: err,
  });
}

/**
 * Replicate's HTTP API over a client of the app's HttpClientFactory (its timeout, proxy, CA and breakers; correlation
 * header, retries) plus a client-side rate limit.
 */
export class ReplicateClient {
  readonly http: HttpClient;
  private readonly budget: CallBudget;

  constructor(
    http: HttpClientFactory,
    readonly opts: ReplicateClientOptions,
  ) {
    this.http = http.create({
      name: opts.name ?? PROVIDER,
      baseUrl: opts.baseUrl,
      timeoutMs: opts.timeoutMs,
      retry: opts.retry,
      breaker: opts.breaker,
    });
    this.budget = opts.budget ?? { acquire: () => Promise.resolve() };
  }

  /** The Authorization header of the token in force now. */
  private async auth(): Promise<Record<string, string>> {
    const token = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  /** Never retried once it may have reached Replicate: an unknown outcome is reconciled by job_id. */
  async createPrediction(body: CreatePredictionBody): Promise<ReplicatePrediction> {
    try {
      await this.budget.acquire('create');
      const res = await this.http.request<ReplicatePrediction>('POST', '/predictions', {
        body,
        idempotent: false,
        headers: await this.auth(),
      });
      return res.body;
    } catch (err) {
      throw toProviderCallError(err, 'create prediction');
    }
  }

  /** null when Replicate no longer knows the prediction. */
  async getPrediction(id: string): Promise<ReplicatePrediction | null> {
    try {
      return await this.call<ReplicatePrediction>('GET', `/predictions/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 404) return null;
      throw toProviderCallError(err, 'get prediction');
    }
  }

  /** One page of the account's predictions, newest first; `cursor` is the previous page's `next` URL. */
  async listPredictions(cursor?: string | null): Promise<ReplicatePage<ReplicatePrediction>> {
    if (cursor && /^https?:/i.test(cursor) && new URL(cursor).host !== new URL(this.opts.baseUrl).host) {
      // A `next` URL on another host would receive our token.
      throw new ProviderCallError('Replicate returned a cursor for another host', PROVIDER, { retryable: false });
    }
    try {
      const page = await this.call<ReplicatePage<ReplicatePrediction>>('GET', cursor ?? '/predictions');
      return { results: page?.results ?? [], next: page?.next ?? null };
    } catch (err) {
      throw toProviderCallError(err, 'list predictions');
    }
  }

  /** A 404 means the prediction is already gone: success. */
  async cancelPrediction(id: string): Promise<void> {
    try {
      await this.call('POST', `/predictions/${encodeURIComponent(id)}/cancel`);
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 404) return;
      throw toProviderCallError(err, 'cancel prediction');
    }
  }

  async listModelVersions(owner: string, name: string): Promise<{ id: string; created_at?: string }[]> {
    try {
      const page = await this.call<ReplicatePage<{ id: string; created_at?: string }>>(
        'GET',
        `/models/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/versions`,
      );
      return page?.results ?? [];
    } catch (err) {
      throw toProviderCallError(err, 'list model versions');
    }
  }

  async getDefaultWebhookSecret(): Promise<string> {
    try {
      const body = await this.call<{ key: string }>('GET', '/webhooks/default/secret');
      return body.key;
    } catch (err) {
      throw toProviderCallError(err, 'get webhook secret');
    }
  }

  /**
   * Uploads a file to Replicate's files API as multipart/form-data, streaming `content` as it arrives (never held
   * whole). Sent once: the stream cannot be replayed, and a create is not repeated. A failure of `content` itself
   * (its client went away, it grew too large) is thrown as it is.
   */
  async createFile(
    content: Readable,
    filename: string,
    contentType: string,
    size: number | null,
  ): Promise<ReplicateFile> {
    let sourceFailure: { error: unknown } | undefined;
    content.once('error', (error) => (sourceFailure = { error }));
    const { headers, body } = fileUploadBody(content, filename, contentType, size);
    try {
      await this.budget.acquire('call');
      const res = await this.http.request<ReplicateFile>('POST', '/files', {
        stream: body,
        headers: { ...headers, ...(await this.auth()) },
        idempotent: false,
      });
      return res.body;
    } catch (err) {
      if (sourceFailure) throw sourceFailure.error;
      throw toProviderCallError(err, 'create file');
    }
  }

  /** A 404 means the file is already gone: success. */
  async deleteFile(id: string): Promise<void> {
    try {
      await this.call('DELETE', `/files/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 404) return;
      throw toProviderCallError(err, 'delete file');
    }
  }

  /**
   * The account the token belongs to (GET /account): `{valid, username}`, or `{valid: false, error}` when Replicate
   * refuses the token. Other failures (network, 5xx) are thrown.
   */
  async account(): Promise<{ valid: boolean; username?: string; error?: string }> {
    try {
      const body = await this.call<{ username?: string }>('GET', '/account');
      return { valid: true, ...(typeof body?.username === 'string' ? { username: body.username } : {}) };
    } catch (err) {
      if (err instanceof HttpStatusError && (err.status === 401 || err.status === 403)) {
        return { valid: false, error: `Replicate refused the token (HTTP ${err.status})` };
      }
      throw toProviderCallError(err, 'get account');
    }
  }

  private async call<T>(method: string, path: string): Promise<T> {
    await this.budget.acquire('call');
    const res = await this.http.request<T>(method, path, { headers: await this.auth() });
    return res.body;
  }
}
