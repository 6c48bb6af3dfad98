import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { type Dispatcher, fetch, Headers, request } from 'undici';
import { getCorrelationId, getTraceparent } from '../context';
import { getLogger } from '../logging';
import { backoffDelay, parseRetryAfter, sleep } from './backoff';
import type { CircuitBreaker, CircuitBreakerOptions, CircuitState } from './circuit-breaker';
import type { HttpSettings } from './http-settings';
import {
  CircuitOpenError,
  HttpClientError,
  HttpNetworkError,
  HttpOutcomeUnknownError,
  HttpStatusError,
  HttpTimeoutError,
} from './http-errors';

const log = getLogger('simpletuner.cloud.http.client');

export interface HttpClientOptions {
  /** Target name: the circuit breaker is shared by every client of the same app with this name (e.g. `replicate`). */
  name: string;
  baseUrl?: string;
  /** Per-attempt timeout; default the app's SIMPLETUNER_HTTP_TIMEOUT. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Default 3 attempts in all, 500 ms base, 30 s cap, full jitter. */
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Default 5 consecutive failures open it for 60 s; 2 successes in half-open close it. */
  breaker?: CircuitBreakerOptions | false;
  /** The path itself may carry a secret (e.g. a webhook URL): logs and errors show only the host. */
  redactPaths?: boolean;
  /** A connection pool of the caller's own (e.g. one that checks each address it connects to); default the app's. */
  dispatcher?: Dispatcher;
  /** `manual`: a 3xx answer is returned as it is, never followed (default `follow`). */
  redirect?: 'follow' | 'manual';
}

export interface HttpRequestOptions {
  /** JSON-encoded (a Buffer/Uint8Array is sent as is). */
  body?: unknown;
  /**
   * A body read once, as it is sent (an upload relayed from a client), instead of `body`: one attempt only, the
   * timeout counts from its last byte (however long the source takes to deliver it), and a failure of the source
   * itself is thrown as it is, never held against the target's circuit breaker.
   */
  stream?: Readable;
  headers?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  /**
   * Default true. false for non-idempotent calls (a provider create): retried only on 429 or a connection
   * refused before sending; a timeout/reset after sending throws HttpOutcomeUnknownError.
   */
  idempotent?: boolean;
  timeoutMs?: number;
  /** false: a single attempt. */
  retry?: boolean;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer says JSON, else the text. */
  body: T;
  durationMs: number;
}

/** Codes meaning the request cannot have reached the server. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  // TLS verification fails before any byte of the request is sent.
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A target's answer, read whole. */
interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

type Outcome =
  | { kind: 'response'; response: HttpResponse<unknown> }
  | { kind: 'timeout' }
  | { kind: 'network'; code: string | undefined; sent: boolean; cause: unknown };

/**
 * An attempt's end: an outcome of the call, or the failure of a streamed body's own source (its client went away, it
 * grew too large), which says nothing about the target.
 */
type Attempt = Outcome | { kind: 'source'; error: unknown };

function networkCode(err: unknown): string | undefined {
  let cause = (err as { cause?: unknown })?.cause ?? err;
  // Happy-eyeballs connects fail with an AggregateError of per-address errors.
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  const code = (cause as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

function newSpanId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * The one outbound HTTP client, made by an app's HttpClientFactory (its settings and breaker are that app's).
 * Correlation headers are read from the context at each call.
 */
export class HttpClient {
  readonly name: string;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly opts: HttpClientOptions,
    private readonly settings: HttpSettings,
    private readonly breaker: CircuitBreaker | null,
  ) {
    this.name = opts.name;
    this.maxAttempts = Math.max(1, opts.retry?.maxAttempts ?? 3);
    this.baseDelayMs = opts.retry?.baseDelayMs ?? 500;
    this.maxDelayMs = opts.retry?.maxDelayMs ?? 30_000;
  }

  circuitState(): CircuitState {
    return this.breaker?.state() ?? 'closed';
  }

  get<T = unknown>(path: string, opts?: HttpRequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('GET', path, opts);
  }
  post<T = unknown>(path: string, opts?: HttpRequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('POST', path, opts);
  }
  put<T = unknown>(path: string, opts?: HttpRequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('PUT', path, opts);
  }
  delete<T = unknown>(path: string, opts?: HttpRequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('DELETE', path, opts);
  }

  async request<T = unknown>(method: string, path: string, opts: HttpRequestOptions = {}): Promise<HttpResponse<T>> {
    method = method.toUpperCase();
    const url = this.buildUrl(path, opts.query);
    const target = this.opts.redactPaths ? `${url.host}/…` : `${url.host}${url.pathname}`;
    const idempotent = opts.idempotent ?? true;
    const maxAttempts = opts.retry === false || opts.stream ? 1 : this.maxAttempts;
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? this.settings.timeoutMs;
    let lastError: HttpClientError | undefined;

    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (this.breaker && !this.breaker.allows()) {
        if (lastError) throw lastError;
        throw new CircuitOpenError(this.name, method, target, this.breaker.remainingOpenMs());
      }
      const started = performance.now();
      const outcome = await this.attempt(method, url, opts, timeoutMs);
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      if (outcome.kind === 'source') throw outcome.error;
      this.logAttempt(method, url, target, outcome, durationMs, attempt);

      if (outcome.kind === 'response' && outcome.response.status < 400) {
        this.breaker?.recordSuccess();
        return outcome.response as HttpResponse<T>;
      }
      const failure = this.failure(outcome, method, target, idempotent, timeoutMs);
      lastError = failure.error;
      const { retryable, retryAfterMs } = failure;

      if (!retryable || attempt === maxAttempts) throw lastError;
      // Honour the server's Retry-After exactly; one longer than our cap is not worth holding the caller for.
      if (retryAfterMs !== null && retryAfterMs > this.maxDelayMs) throw lastError;
      const delayMs =
        retryAfterMs ?? backoffDelay(attempt, { baseDelayMs: this.baseDelayMs, maxDelayMs: this.maxDelayMs });
      log.debug(`Retrying ${method} ${target} in ${delayMs} ms`, {
        http_client: this.name,
        attempt,
        delay_ms: delayMs,
        retry_after: retryAfterMs !== null,
      });
      await sleep(delayMs);
    }
    throw lastError ?? new Error('unreachable');
  }

  /**
   * What a failed attempt means: the error to throw, whether repeating it is safe, and the server's Retry-After.
   * A create (not idempotent) that may have reached the target has an unknown outcome and is never repeated.
   */
  private failure(
    outcome: Outcome,
    method: string,
    target: string,
    idempotent: boolean,
    timeoutMs: number,
  ): { error: HttpClientError; retryable: boolean; retryAfterMs: number | null } {
    if (outcome.kind === 'response') {
      const { status, body, headers } = outcome.response;
      if (status >= 500) this.recordFailure();
      else if (status !== 429) this.breaker?.recordSuccess(); // the target is up; the request was wrong
      return {
        error: new HttpStatusError(this.name, method, target, status, body, headers),
        // A 5xx on a create may have been applied before failing: only a 429 is safe to repeat.
        retryable: status === 429 || (status >= 500 && idempotent),
        retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(headers.get('retry-after')) : null,
      };
    }
    this.recordFailure();
    if (outcome.kind === 'timeout') {
      if (!idempotent) throw new HttpOutcomeUnknownError(this.name, method, target, 'timeout');
      return { error: new HttpTimeoutError(this.name, method, target, timeoutMs), retryable: true, retryAfterMs: null };
    }
    if (!idempotent && outcome.sent) {
      throw new HttpOutcomeUnknownError(this.name, method, target, 'network', outcome.cause);
    }
    const error = new HttpNetworkError(this.name, method, target, outcome.sent, outcome.code, outcome.cause);
    return { error, retryable: true, retryAfterMs: null };
  }

  private recordFailure(): void {
    if (!this.breaker) return;
    const before = this.breaker.state();
    this.breaker.recordFailure();
    if (before !== 'open' && this.breaker.state() === 'open') {
      log.warning(`Circuit breaker for ${this.name} opened`, { http_client: this.name, open_ms: this.breaker.openMs });
    }
  }

  private buildUrl(path: string, query: HttpRequestOptions['query']): URL {
    let url: URL;
    if (/^https?:\/\//i.test(path)) url = new URL(path);
    else {
      if (!this.opts.baseUrl) throw new Error(`HttpClient ${this.name}: relative path ${path} without baseUrl`);
      const base = this.opts.baseUrl.endsWith('/') ? this.opts.baseUrl : this.opts.baseUrl + '/';
      url = new URL(path.replace(/^\//, ''), base);
    }
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private buildHeaders(opts: HttpRequestOptions, hasJsonBody: boolean): Record<string, string> {
    // Lower-case keys so a caller's header replaces ours whatever its spelling.
    const headers: Record<string, string> = { 'user-agent': this.settings.userAgent, accept: 'application/json' };
    for (const [k, v] of Object.entries(this.opts.headers ?? {})) headers[k.toLowerCase()] = v;
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
    if (hasJsonBody && !headers['content-type']) headers['content-type'] = 'application/json';
    // Read at call time, never at client creation: the same client serves many requests and ticks.
    headers['x-correlation-id'] = getCorrelationId();
    const trace = getTraceparent();
    if (trace) headers.traceparent = `00-${trace.traceId}-${newSpanId()}-${trace.flags}`;
    return headers;
  }

  private async attempt(method: string, url: URL, opts: HttpRequestOptions, timeoutMs: number): Promise<Attempt> {
    let body: string | Uint8Array | Readable | undefined;
    if (opts.body instanceof Uint8Array) body = opts.body;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    const headers = this.buildHeaders(opts, typeof body === 'string');
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    // A streamed body may still end after the answer came (the target answered early): no timer then.
    const arm = () => {
      if (!settled) timer = setTimeout(() => controller.abort(), timeoutMs);
    };
    let sourceFailure: { error: unknown } | undefined;
    if (opts.stream) {
      body = opts.stream;
      body.once('end', arm);
      body.once('error', (error) => (sourceFailure = { error }));
    } else arm();
    const started = performance.now();
    try {
      // Reading the answer's body is part of the call: the same timeout covers it.
      const answer = await this.exchange(method, url, headers, body, controller.signal);
      return { kind: 'response', response: this.response(answer, started) };
    } catch (err) {
      if (sourceFailure) return { kind: 'source', error: sourceFailure.error };
      if (controller.signal.aborted) return { kind: 'timeout' };
      const code = networkCode(err);
      return { kind: 'network', code, sent: code === undefined || !NOT_SENT_CODES.has(code), cause: err };
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  /**
   * One request and its answer. A streamed body goes through undici's dispatcher API, which writes each chunk to the
   * socket as it comes: fetch would first copy every chunk into a web stream (measured on a 100 MiB upload: half the
   * throughput and some 90 MB more RSS).
   */
  private async exchange(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | Uint8Array | Readable | undefined,
    signal: AbortSignal,
  ): Promise<Answer> {
    const dispatcher = this.opts.dispatcher ?? this.settings.dispatcher;
    if (body instanceof Readable) {
      const res = await request(url, { method, headers, body, signal, dispatcher });
      const answerHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
          answerHeaders.append(name, v);
      }
      return { status: res.statusCode, headers: answerHeaders, text: await res.body.text() };
    }
    const redirect = this.opts.redirect ?? 'follow';
    const res = await fetch(url, { method, headers, body, signal, dispatcher, redirect });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  private response({ status, headers, text }: Answer, started: number): HttpResponse<unknown> {
    const type = headers.get('content-type') ?? '';
    let parsed: unknown = text;
    if (text !== '' && /[/+]json\b/i.test(type)) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status, headers, body: parsed, durationMs: Math.round((performance.now() - started) * 10) / 10 };
  }

  private logAttempt(
    method: string,
    url: URL,
    target: string,
    outcome: Outcome,
    durationMs: number,
    attempt: number,
  ): void {
    const status = outcome.kind === 'response' ? outcome.response.status : null;
    const what =
      outcome.kind === 'response'
        ? String(status)
        : outcome.kind === 'timeout'
          ? 'timeout'
          : (outcome.code ?? 'network error');
    // Host and path only: query strings and bodies may carry secrets.
    log.debug(`HTTP ${method} ${target} ${what} (${durationMs} ms)`, {
      http_client: this.name,
      method,
      host: url.host,
      path: this.opts.redactPaths ? '/…' : url.pathname,
      status,
      duration_ms: durationMs,
      attempt,
      ...(outcome.kind === 'network' ? { error_code: outcome.code ?? null } : {}),
    });
  }
}
