import { isIP } from 'node:net';
import type { Dispatcher } from 'undici';
import { signedWebhookHeaders } from '../common/standard-webhooks';
import {
  HttpClient,
  HttpClientFactory,
  HttpNetworkError,
  HttpStatusError,
  HttpTimeoutError,
  parseRetryAfter,
} from '../http';
import {
  isBlockedAddress,
  notificationDispatcher,
  type NotificationEgress,
  TARGET_TIMEOUT_MS,
  targetRefusal,
} from './target-guard';

/** What one attempt of a delivery came to. */
export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  /** The first KiB of the answer. */
  excerpt: string | null;
  /** Network errors, timeouts, 408, 429 and 5xx may be tried again; any other 4xx (and a redirect) is final. */
  retryable: boolean;
  retryAfterMs: number | null;
}

const EXCERPT_BYTES = 1024;

function excerpt(body: unknown): string | null {
  if (body === undefined || body === null || body === '') return null;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= EXCERPT_BYTES ? text : bytes.subarray(0, EXCERPT_BYTES).toString('utf8');
}

/**
 * Webhook and Slack calls: through the app's HTTP client (correlation id, logging) with a pool of their own that
 * checks every address it connects to (through the app's proxy when set, every name before each call), one
 * attempt per call (the outbox schedules retries), no redirects followed,
 * 10 s timeout, no circuit breaker (each channel's failures are its own).
 */
export class HttpTransport {
  private readonly dispatcher: Dispatcher;
  private readonly client: HttpClient;
  /** Through a proxy, which resolves the names: they are checked before each call. */
  private readonly checkNames: boolean;

  constructor(
    http: HttpClientFactory,
    private readonly allowPrivate: boolean,
    egress: NotificationEgress = {},
  ) {
    this.dispatcher = notificationDispatcher(allowPrivate, egress);
    this.checkNames = !allowPrivate && egress.proxy !== undefined;
    this.client = http.create({
      name: 'notifications',
      breaker: false,
      redactPaths: true,
      redirect: 'manual',
      timeoutMs: TARGET_TIMEOUT_MS,
      dispatcher: this.dispatcher,
    });
  }

  /** A webhook delivery: the body signed with the channel's secret, `webhook-id` = the delivery id. */
  sendWebhook(url: string, secret: string, id: string, payload: unknown, now: Date): Promise<SendResult> {
    const body = Buffer.from(JSON.stringify(payload));
    const headers = { 'content-type': 'application/json', ...signedWebhookHeaders(secret, id, body, now) };
    return this.post(url, body, headers);
  }

  /** A Slack incoming-webhook message. */
  sendSlack(url: string, message: { text: string }): Promise<SendResult> {
    return this.post(url, Buffer.from(JSON.stringify(message)), { 'content-type': 'application/json' });
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  private async post(url: string, body: Buffer, headers: Record<string, string>): Promise<SendResult> {
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    // An address literal never goes through the connect-time lookup: judge it here.
    if (!this.allowPrivate && isIP(host) && isBlockedAddress(host))
      return failure(null, took(), `${host} is a blocked address`, false, null);
    if (this.checkNames && !isIP(host)) {
      const refusal = await targetRefusal(url, false);
      // As a refusal at connect time would be: the name may resolve elsewhere by the next attempt.
      if (refusal) return failure(null, took(), `${host} ${refusal}`, true, null);
    }
    try {
      const res = await this.client.post(url, { body, headers, retry: false });
      if (res.status >= 300)
        return failure(res.status, took(), `Redirect (${res.status}) not followed`, false, null, excerpt(res.body));
      return {
        ok: true,
        statusCode: res.status,
        durationMs: took(),
        error: null,
        excerpt: excerpt(res.body),
        retryable: false,
        retryAfterMs: null,
      };
    } catch (err) {
      if (err instanceof HttpStatusError) {
        const s = err.status;
        const retryable = s === 408 || s === 429 || s >= 500;
        const after = s === 429 || s === 503 ? parseRetryAfter(err.headers.get('retry-after')) : null;
        return failure(s, took(), `HTTP ${s}`, retryable, after, excerpt(err.body));
      }
      if (err instanceof HttpTimeoutError) return failure(null, took(), 'Timed out', true, null);
      if (err instanceof HttpNetworkError) {
        const cause = (err.cause as { cause?: { message?: string } } | undefined)?.cause?.message;
        return failure(null, took(), cause ?? err.message, true, null);
      }
      return failure(null, took(), err instanceof Error ? err.message : String(err), true, null);
    }
  }
}

function failure(
  statusCode: number | null,
  durationMs: number,
  error: string,
  retryable: boolean,
  retryAfterMs: number | null,
  text: string | null = null,
): SendResult {
  return { ok: false, statusCode, durationMs, error, excerpt: text, retryable, retryAfterMs };
}
