import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { signWebhook } from '../../src/common/standard-webhooks';
import { FakeOutputs } from './fake-outputs';
import { FakeFiles } from './fake-replicate-files';

/** A fake of Replicate's HTTP API on 127.0.0.1, for tests and benches. */
export interface FakePrediction {
  id: string;
  seq: number;
  version: string;
  status: string;
  input: Record<string, unknown>;
  output: unknown;
  error: string | null;
  logs: string;
  metrics: { predict_time?: number };
  webhook: string | null;
  webhook_events_filter: string[] | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  /** Hidden from GET /predictions pages (like a prediction the list no longer shows); GET by id still works. */
  unlisted?: boolean;
  /** Text appended to `logs` each time the prediction is read (GET by id or a list page), one piece per read. */
  logFeed?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  at: number;
}

type Matcher = { method?: string; path?: RegExp };
type Fault =
  | (Matcher & { kind: 'status'; status: number; retryAfter?: string; remaining: number })
  | (Matcher & { kind: 'stall'; ms: number; applyFirst: boolean; remaining: number });

const ORDER = ['starting', 'processing', 'succeeded'];

export class FakeReplicate {
  readonly token: string;
  readonly webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  pageSize = 100;
  /** The username GET /account answers for the token. */
  accountName = 'fake-owner';
  /** When set, status changes of predictions with a `webhook` are sent to it, signed. */
  autoWebhooks = false;
  readonly requests: RecordedRequest[] = [];
  readonly predictions = new Map<string, FakePrediction>();
  readonly webhookResponses: { id: string; status: number }[] = [];
  /** Output files, served under /files/ on the API's own host (see FakeOutputs). */
  readonly outputs = new FakeOutputs();
  /** The files API (`/files`): what was uploaded (size, sha256) and deleted. */
  readonly files = new FakeFiles(() => this.url);
  private seq = 0;
  private faults: Fault[] = [];
  private server: http.Server | null = null;
  private sockets = new Set<Socket>();
  private clock: NodeJS.Timeout | null = null;
  private base = '';

  constructor(token = 'r8_test_token') {
    this.token = token;
  }

  /** Base URL to give the app as REPLICATE_API_BASE. */
  get url(): string {
    return `${this.base}/v1`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.stopClock();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  /** Forgets predictions, requests and faults (the server keeps listening). */
  reset(): void {
    this.stopClock();
    this.requests.length = 0;
    this.predictions.clear();
    this.webhookResponses.length = 0;
    this.faults = [];
    this.outputs.reset();
    this.files.reset();
    this.autoWebhooks = false;
    this.pageSize = 100;
  }

  // ---- programming faults ----------------------------------------------------------------------------------

  /** The next `times` matching requests answer `status` (e.g. 500, or 429 with Retry-After). */
  failNext(times: number, status = 500, opts: Matcher & { retryAfter?: string } = {}): void {
    this.faults.push({ kind: 'status', status, remaining: times, ...opts });
  }

  /** The next `times` matching requests are held `ms` (Infinity: never answered). applyFirst: act at once, answer late. */
  stallNext(times: number, ms: number, opts: Matcher & { applyFirst?: boolean } = {}): void {
    this.faults.push({ kind: 'stall', ms, remaining: times, applyFirst: opts.applyFirst ?? false, ...opts });
  }

  // ---- driving predictions ---------------------------------------------------------------------------------

  /** Adds a prediction directly (as if created earlier), newest last. */
  addPrediction(partial: Partial<FakePrediction> & { input?: Record<string, unknown> } = {}): FakePrediction {
    const now = new Date().toISOString();
    const p: FakePrediction = {
      id: partial.id ?? randomBytes(10).toString('hex'),
      seq: ++this.seq,
      version: partial.version ?? 'v1',
      status: partial.status ?? 'starting',
      input: partial.input ?? {},
      output: partial.output ?? null,
      error: partial.error ?? null,
      logs: partial.logs ?? '',
      metrics: partial.metrics ?? {},
      webhook: partial.webhook ?? null,
      webhook_events_filter: partial.webhook_events_filter ?? null,
      created_at: partial.created_at ?? now,
      started_at: partial.started_at ?? null,
      completed_at: partial.completed_at ?? null,
      unlisted: partial.unlisted,
    };
    this.predictions.set(p.id, p);
    return p;
  }

  /** Moves a prediction to `status` (filling timestamps, output, predict_time) and maybe sends its webhook. */
  async setStatus(
    id: string,
    status: string,
    extra: { error?: string; predictTime?: number } = {},
  ): Promise<FakePrediction> {
    const p = this.predictions.get(id);
    if (!p) throw new Error(`fake replicate: no prediction ${id}`);
    p.status = status;
    const now = new Date().toISOString();
    if (status !== 'starting') p.started_at ??= now;
    if (['succeeded', 'failed', 'canceled', 'aborted'].includes(status)) {
      p.completed_at ??= now;
      p.metrics = { predict_time: extra.predictTime ?? p.metrics.predict_time ?? 100 };
      if (status === 'succeeded') p.output = p.output ?? [this.outputUrl(`${p.id}/model.safetensors`)];
      if (status === 'failed') p.error = extra.error ?? 'Training failed';
    }
    if (this.autoWebhooks && p.webhook) await this.sendWebhook(p.webhook, p).catch(() => undefined);
    return p;
  }

  /** Appends to a prediction's log now (as the trainer printing more). */
  appendLogs(id: string, text: string): void {
    const p = this.predictions.get(id);
    if (!p) throw new Error(`fake replicate: no prediction ${id}`);
    p.logs += text;
  }

  /** From now on each read of the prediction first appends the next of `pieces` to its log: a log that grows by poll. */
  feedLogs(id: string, pieces: string[]): void {
    const p = this.predictions.get(id);
    if (!p) throw new Error(`fake replicate: no prediction ${id}`);
    p.logFeed = [...(p.logFeed ?? []), ...pieces];
  }

  /** The URL of an output file the fake serves (see FakeOutputs). */
  outputUrl(path: string): string {
    return `${this.base}/files/${path}`;
  }

  delete(id: string): void {
    this.predictions.delete(id);
  }

  /** On a clock: every `stepMs` each active prediction moves one step (failed when the config says simulate_failure). */
  startClock(stepMs: number): void {
    this.stopClock();
    this.clock = setInterval(() => {
      for (const p of this.predictions.values()) {
        const i = ORDER.indexOf(p.status);
        if (i < 0 || i === ORDER.length - 1) continue;
        const next = ORDER[i + 1] === 'succeeded' && simulatesFailure(p.input) ? 'failed' : ORDER[i + 1];
        void this.setStatus(p.id, next);
      }
    }, stepMs);
  }

  stopClock(): void {
    if (this.clock) clearInterval(this.clock);
    this.clock = null;
  }

  /** POSTs the prediction to `url`, signed the Standard-Webhooks way; options forge bad deliveries. */
  async sendWebhook(
    url: string,
    prediction: FakePrediction | Record<string, unknown>,
    opts: { webhookId?: string; timestamp?: number; secret?: string; signature?: string | null; omit?: string[] } = {},
  ): Promise<{ status: number; body: string }> {
    const body = JSON.stringify(this.view(prediction as FakePrediction));
    const id = opts.webhookId ?? `msg_${randomBytes(8).toString('hex')}`;
    const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': opts.signature ?? signWebhook(opts.secret ?? this.webhookSecret, id, ts, body),
    };
    for (const h of opts.omit ?? []) delete headers[h];
    const res = await fetch(url, { method: 'POST', headers, body });
    this.webhookResponses.push({ id, status: res.status });
    return { status: res.status, body: await res.text() };
  }

  // ---- inspection ------------------------------------------------------------------------------------------

  /** The prediction created for our job (input.job_id), once it arrives; undefined after `timeoutMs`. */
  async waitForPrediction(jobId: string, timeoutMs = 5000): Promise<FakePrediction | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = [...this.predictions.values()].find((x) => x.input.job_id === jobId);
      if (p || Date.now() >= deadline) return p;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  // ---- HTTP ------------------------------------------------------------------------------------------------

  /** A read of the prediction: its log grows by the next fed piece first. */
  private read(p: FakePrediction) {
    const piece = p.logFeed?.shift();
    if (piece !== undefined) p.logs += piece;
    return this.view(p);
  }

  private view(p: FakePrediction) {
    if (!p || typeof p.seq !== 'number') return p;
    const { seq: _seq, unlisted: _unlisted, logFeed: _feed, ...rest } = p;
    return {
      ...rest,
      urls: {
        get: `${this.url}/predictions/${p.id}`,
        cancel: `${this.url}/predictions/${p.id}/cancel`,
        stream: `${this.base}/stream/${p.id}`,
      },
    };
  }

  private takeFault(method: string, path: string): Fault | null {
    const f = this.faults.find(
      (x) => x.remaining > 0 && (!x.method || x.method === method) && (!x.path || x.path.test(path)),
    );
    if (!f) return null;
    f.remaining--;
    return f;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.outputs.handle(req, res)) return;
    const url = new URL(req.url ?? '/', this.base);
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/^\/v1/, '');
    // An upload is read as it streams in (never buffered whole), like the real API.
    const upload = method === 'POST' && path === '/files';
    let body: unknown;
    if (!upload) {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
    }
    this.requests.push({
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      at: Date.now(),
    });

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      if (res.destroyed) return;
      // An answer before an upload's body was read closes the connection (its rest is never read).
      const close: Record<string, string> = upload && !req.complete ? { connection: 'close' } : {};
      if (payload === undefined) return void res.writeHead(status, { ...close, ...headers }).end();
      res.writeHead(status, { 'content-type': 'application/json', ...close, ...headers });
      res.end(JSON.stringify(payload));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, { detail: 'Invalid token.' });

    const fault = this.takeFault(method, path);
    if (fault?.kind === 'status') {
      return send(
        fault.status,
        { detail: `fake failure ${fault.status}` },
        fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
      );
    }
    if (upload) {
      const file = await this.files.receive(req);
      if (!file) return send(400, { detail: 'content is required' });
      // A stall holds the answer of an upload that was kept (or never answers it).
      if (fault?.kind === 'stall') {
        if (fault.ms === Infinity) return;
        await new Promise((r) => setTimeout(r, fault.ms));
      }
      return send(201, this.files.view(file));
    }
    if (fault?.kind === 'stall') {
      // applyFirst: the request takes effect at once, its answer comes late (or never).
      const early = fault.applyFirst ? this.route(method, path, url, body) : null;
      if (fault.ms === Infinity) return; // destroyed on stop()
      await new Promise((r) => setTimeout(r, fault.ms));
      if (early) return send(early[0], early[1]);
    }
    const [status, payload] = this.route(method, path, url, body);
    send(status, payload);
  }

  private route(method: string, path: string, url: URL, body: unknown): [number, unknown] {
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/predictions') {
      const b = (body ?? {}) as {
        version?: string;
        input?: Record<string, unknown>;
        webhook?: string;
        webhook_events_filter?: string[];
      };
      if (!b.version || typeof b.input !== 'object') return [422, { detail: 'version and input are required' }];
      const p = this.addPrediction({
        version: b.version,
        input: b.input,
        webhook: b.webhook ?? null,
        webhook_events_filter: b.webhook_events_filter ?? null,
      });
      return [201, this.view(p)];
    }
    if (method === 'GET' && path === '/predictions') {
      const cursor = url.searchParams.get('cursor');
      const below = cursor ? Number(cursor) : Infinity;
      const all = [...this.predictions.values()]
        .filter((p) => !p.unlisted && p.seq < below)
        .sort((a, b) => b.seq - a.seq);
      const page = all.slice(0, this.pageSize);
      const next = all.length > page.length ? `${this.url}/predictions?cursor=${page[page.length - 1].seq}` : null;
      return [200, { results: page.map((p) => this.read(p)), next, previous: null }];
    }
    if (method === 'GET' && (m = /^\/predictions\/([^/]+)$/.exec(path))) {
      const p = this.predictions.get(decodeURIComponent(m[1]));
      return p ? [200, this.read(p)] : [404, { detail: 'Not found.' }];
    }
    if (method === 'POST' && (m = /^\/predictions\/([^/]+)\/cancel$/.exec(path))) {
      const p = this.predictions.get(decodeURIComponent(m[1]));
      if (!p) return [404, { detail: 'Not found.' }];
      if (!['succeeded', 'failed', 'canceled'].includes(p.status)) {
        p.status = 'canceled';
        p.completed_at = new Date().toISOString();
      }
      return [200, this.view(p)];
    }
    if (method === 'GET' && (m = /^\/models\/([^/]+)\/([^/]+)\/versions$/.exec(path))) {
      return [200, { results: [{ id: `ver-${m[2]}`, created_at: new Date().toISOString() }], next: null }];
    }
    if (method === 'GET' && path === '/webhooks/default/secret') return [200, { key: this.webhookSecret }];
    if (method === 'GET' && path === '/account')
      return [200, { type: 'user', username: this.accountName, name: 'Fake' }];
    return this.files.route(method, path) ?? [404, { detail: 'Not found.' }];
  }
}

export async function startFakeReplicate(token?: string): Promise<FakeReplicate> {
  return new FakeReplicate(token).start();
}

/** The trainer's config arrives as `config_json` (a JSON string): its `simulate_failure` makes a run fail. */
function simulatesFailure(input: Record<string, unknown>): boolean {
  try {
    return typeof input.config_json === 'string' && JSON.parse(input.config_json).simulate_failure === true;
  } catch {
    return false;
  }
}
