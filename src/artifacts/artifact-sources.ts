import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Agent, Dispatcher, ProxyAgent, request } from 'undici';
import { AppConfig } from '../config';
import { getCorrelationId } from '../context';
import { PACKAGE_VERSION } from '../http';

export const UNTRUSTED_SOURCE = 'untrusted source';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** Client errors that another try may cure. */
const RETRYABLE_4XX = new Set([408, 425, 429]);

/** A copy that failed; `permanent`: trying again cannot help (an untrusted host, a 404). */
export class CopyError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'CopyError';
  }
}

/** An output's bytes as the source serves them. */
export interface SourceBody {
  body: Readable;
  contentType: string | null;
  /** Content-Length, when the source sent one. */
  size: number | null;
}

/** Does `url`'s host match an entry of the list: `host`, `host:port`, or `*.domain` (its subdomains)? */
function listed(url: URL, entries: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return entries.some((entry) => {
    const m = /^(.*?)(?::(\d+))?$/.exec(entry)!;
    if (m[2] && m[2] !== port) return false;
    const name = m[1];
    return name.startsWith('*.') ? host.endsWith(name.slice(1)) : host === name;
  });
}

/**
 * Where outputs are fetched from, and the fetch. Only http(s) URLs on the job's provider's own API host or a host of
 * SIMPLETUNER_ARTIFACT_SOURCE_HOSTS are fetched, redirects included (each hop is checked): an output URL is data
 * from outside, and fetching anything it names would let it point the service at internal addresses.
 *
 * The fetch streams the body (backpressure from the store, never the whole file in memory), which the app's
 * HttpClient cannot do: it reads every answer whole, as JSON or text, for its retries and circuit breaker. So this
 * uses undici's `request` directly (the library under Node's own fetch and under HttpClient), on a connection pool
 * of its own that honours SIMPLETUNER_HTTP_PROXY and SIMPLETUNER_HTTP_CA_FILE like the app's client; retries are
 * the copy queue's, not per request.
 */
@Injectable()
export class ArtifactSources implements OnApplicationShutdown {
  private readonly hosts: readonly string[];
  private readonly providerHosts = new Map<string, string>();
  private readonly dispatcher: Dispatcher;
  private readonly timeoutMs: number;

  constructor(config: AppConfig) {
    const env = config.env;
    this.hosts = env.SIMPLETUNER_ARTIFACT_SOURCE_HOSTS;
    this.providerHosts.set('replicate', new URL(env.REPLICATE_API_BASE).host.toLowerCase());
    this.timeoutMs = env.SIMPLETUNER_HTTP_TIMEOUT * 1000;
    const ca = env.SIMPLETUNER_HTTP_CA_FILE ? fs.readFileSync(env.SIMPLETUNER_HTTP_CA_FILE, 'utf8') : undefined;
    this.dispatcher = env.SIMPLETUNER_HTTP_PROXY
      ? new ProxyAgent({ uri: env.SIMPLETUNER_HTTP_PROXY, ...(ca ? { requestTls: { ca }, proxyTls: { ca } } : {}) })
      : new Agent(ca ? { connect: { ca } } : {});
  }

  /** Whether an output of a job of `provider` at `url` may be fetched. */
  isTrusted(url: string, provider: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return false;
    const apiHost = this.providerHosts.get(provider);
    return (apiHost !== undefined && parsed.host.toLowerCase() === apiHost) || listed(parsed, this.hosts);
  }

  /** The output's body, after following trusted redirects. Throws CopyError; the message names hosts, never paths. */
  async open(url: string, provider: string, signal: AbortSignal): Promise<SourceBody> {
    let current = url;
    for (let hop = 0; ; hop++) {
      if (!this.isTrusted(current, provider)) throw new CopyError(UNTRUSTED_SOURCE, true);
      const host = new URL(current).host;
      const res = await this.get(current, signal);
      if (REDIRECTS.has(res.statusCode) && res.headers.location) {
        await res.body.dump();
        if (hop >= MAX_REDIRECTS) throw new CopyError(`more than ${MAX_REDIRECTS} redirects from ${host}`, true);
        current = new URL(String(res.headers.location), current).href;
        continue;
      }
      if (res.statusCode !== 200) {
        await res.body.dump();
        const permanent = res.statusCode >= 400 && res.statusCode < 500 && !RETRYABLE_4XX.has(res.statusCode);
        throw new CopyError(`HTTP ${res.statusCode} from ${host}`, permanent);
      }
      const length = Number(res.headers['content-length']);
      const type = res.headers['content-type'];
      return {
        body: res.body,
        contentType: typeof type === 'string' ? type.slice(0, 255) : null,
        size: Number.isSafeInteger(length) && length >= 0 ? length : null,
      };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher.destroy();
  }

  private async get(url: string, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    try {
      return await request(url, {
        method: 'GET',
        dispatcher: this.dispatcher,
        signal,
        headers: { 'user-agent': `SimpleTuner-Cloud/${PACKAGE_VERSION}`, 'x-correlation-id': getCorrelationId() },
        // Until the answer starts, and then between two chunks: a stalled source fails, a slow one goes on.
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      const code = (err as { code?: unknown }).code;
      throw new CopyError(`${typeof code === 'string' ? code : 'network error'} from ${new URL(url).host}`, false);
    }
  }
}
