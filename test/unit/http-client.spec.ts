import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { ClsServiceManager } from 'nestjs-cls';
import { CLS_TRACEPARENT, runWithCorrelationId } from '../../src/context';
import { configureStructuredLogging, flushLogs } from '../../src/logging';
import {
  CircuitOpenError,
  HttpClientFactory,
  HttpNetworkError,
  HttpOutcomeUnknownError,
  HttpStatusError,
  PACKAGE_VERSION,
  parseRetryAfter,
} from '../../src/http';
import { httpClientFactory } from '../support/http-factory';

interface Seen {
  at: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Reply = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

/** A real loopback server that records every request and answers with the next scripted reply. */
async function recordingServer() {
  const seen: Seen[] = [];
  let script: Reply[] = [];
  let fallback: Reply = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ at: Date.now(), method: req.method!, url: req.url!, headers: req.headers, body });
      (script.shift() ?? fallback)(req, res, seen.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    seen,
    url: `http://127.0.0.1:${port}`,
    port,
    reply(...replies: Reply[]) {
      script = replies;
    },
    setFallback(r: Reply) {
      fallback = r;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Reply =>
  (_req, res) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

describe('outbound HTTP client', () => {
  let srv: Awaited<ReturnType<typeof recordingServer>>;
  let factory: HttpClientFactory;
  beforeEach(async () => {
    factory = httpClientFactory();
    srv = await recordingServer();
  });
  afterEach(async () => {
    await srv.close();
    await factory.close();
  });

  it('sends the current correlation id at call time, the user agent, JSON body and query', async () => {
    const client = factory.create({ name: 't-headers', baseUrl: srv.url + '/v1' });
    const res = await runWithCorrelationId('req-one', () =>
      client.post<{ ok: boolean }>('/predictions', { body: { a: 1 }, query: { cursor: 'c1', skip: undefined } }),
    );
    await runWithCorrelationId('req-two', () => client.get('/predictions/x'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    expect(srv.seen.map((s) => s.headers['x-correlation-id'])).toEqual(['req-one', 'req-two']);
    expect(srv.seen[0].headers['user-agent']).toBe(`SimpleTuner-Cloud/${PACKAGE_VERSION}`);
    expect(PACKAGE_VERSION).toBe('0.1.0');
    expect(srv.seen[0].url).toBe('/v1/predictions?cursor=c1');
    expect(srv.seen[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(srv.seen[0].body)).toEqual({ a: 1 });
  });

  it('uses the tick id, not the request id, for a call from a background tick started during a request', async () => {
    const client = factory.create({ name: 't-tick', baseUrl: srv.url });
    await runWithCorrelationId('request-id', async () => {
      await client.get('/from-request');
      // A tick opens its own context (what the shared tick wrapper does), even when started from a request.
      await new Promise<void>((resolve, reject) =>
        setTimeout(() => {
          runWithCorrelationId('tick-id-1', () => client.get('/from-tick')).then(() => resolve(), reject);
        }, 5),
      );
    });
    expect(srv.seen.map((s) => [s.url, s.headers['x-correlation-id']])).toEqual([
      ['/from-request', 'request-id'],
      ['/from-tick', 'tick-id-1'],
    ]);
  });

  it('keeps the incoming trace id in traceparent with a new span id', async () => {
    const client = factory.create({ name: 't-trace', baseUrl: srv.url });
    const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: '01' };
    await runWithCorrelationId('traced', () => {
      ClsServiceManager.getClsService().set(CLS_TRACEPARENT, trace);
      return client.get('/t');
    });
    await runWithCorrelationId('untraced', () => client.get('/u'));
    const tp = String(srv.seen[0].headers.traceparent);
    expect(tp).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(tp.split('-')[2]).not.toBe(trace.parentId);
    expect(srv.seen[1].headers.traceparent).toBeUndefined();
  });

  it('retries after 429 and 503 with the delays Retry-After asked for (seconds and HTTP date)', async () => {
    const date = new Date(Date.now() + 2000).toUTCString(); // second precision: 1–2 s from now
    srv.reply(
      json(429, { detail: 'slow down' }, { 'retry-after': '1' }),
      json(503, { detail: 'busy' }, { 'retry-after': date }),
      json(200, { id: 'p1' }),
    );
    const client = factory.create({
      name: 't-retry-after',
      baseUrl: srv.url,
      retry: { maxAttempts: 3, baseDelayMs: 1 },
    });
    const res = await runWithCorrelationId('retry-corr', () => client.get<{ id: string }>('/predictions/p1'));
    expect(res.body).toEqual({ id: 'p1' });
    expect(srv.seen).toHaveLength(3);
    const gap1 = srv.seen[1].at - srv.seen[0].at;
    const gap2 = srv.seen[2].at - srv.seen[1].at;
    expect(gap1).toBeGreaterThanOrEqual(990);
    expect(gap1).toBeLessThan(1500);
    const asked = Date.parse(date) - srv.seen[1].at;
    expect(gap2).toBeGreaterThanOrEqual(asked - 10);
    expect(gap2).toBeLessThan(asked + 500);
    // Every retry carries the same caller's id.
    expect(new Set(srv.seen.map((s) => s.headers['x-correlation-id']))).toEqual(new Set(['retry-corr']));
  }, 15000);

  it('gives up with HttpStatusError after the attempts, and does not retry a 4xx', async () => {
    srv.setFallback(json(502, { detail: 'bad gateway' }));
    const client = factory.create({ name: 't-5xx', baseUrl: srv.url, retry: { baseDelayMs: 5 } });
    const err = await client.get('/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect((err as HttpStatusError).status).toBe(502);
    expect((err as HttpStatusError).body).toEqual({ detail: 'bad gateway' });
    expect(srv.seen).toHaveLength(3);

    srv.setFallback(json(422, { detail: 'invalid version' }));
    const other = factory.create({ name: 't-4xx', baseUrl: srv.url, retry: { baseDelayMs: 5 } });
    await expect(other.post('/predictions', { body: {} })).rejects.toMatchObject({ status: 422 });
    expect(srv.seen).toHaveLength(4);
  });

  it('does not wait for a Retry-After longer than the retry cap', async () => {
    srv.reply(json(429, {}, { 'retry-after': '120' }));
    const client = factory.create({ name: 't-long-ra', baseUrl: srv.url, retry: { maxDelayMs: 1000 } });
    const started = Date.now();
    await expect(client.get('/x')).rejects.toMatchObject({ status: 429 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(srv.seen).toHaveLength(1);
  });

  it('never repeats a create that timed out after sending: HttpOutcomeUnknownError', async () => {
    srv.setFallback(() => undefined); // never answers
    const client = factory.create({ name: 't-create-timeout', baseUrl: srv.url, retry: { baseDelayMs: 5 } });
    // Long enough for the server (in this same, possibly busy, process) to read the request before it times out.
    const err = await client
      .post('/predictions', { body: { input: { job_id: 'j1' } }, idempotent: false, timeoutMs: 1000 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(HttpOutcomeUnknownError);
    expect(srv.seen).toHaveLength(1);
  });

  it('does not repeat a create answered 503, but repeats one answered 429', async () => {
    srv.reply(json(503, {}), json(429, {}, { 'retry-after': '0' }), json(201, { id: 'p' }));
    const client = factory.create({ name: 't-create-5xx', baseUrl: srv.url, retry: { baseDelayMs: 5 } });
    await expect(client.post('/predictions', { body: {}, idempotent: false })).rejects.toMatchObject({ status: 503 });
    expect(srv.seen).toHaveLength(1);
    const ok = await client.post('/predictions', { body: {}, idempotent: false });
    expect(ok.status).toBe(201);
    expect(srv.seen).toHaveLength(3);
  });

  it('retries a create whose connection was refused before sending, then reports it as not sent', async () => {
    const port = srv.port;
    await srv.close();
    const client = factory.create({
      name: 't-refused',
      baseUrl: `http://127.0.0.1:${port}`,
      retry: { baseDelayMs: 5 },
    });
    const err = await client.post('/predictions', { body: {}, idempotent: false }).catch((e) => e);
    expect(err).toBeInstanceOf(HttpNetworkError);
    expect((err as HttpNetworkError).sent).toBe(false);
    expect((err as HttpNetworkError).code).toBe('ECONNREFUSED');
    srv = await recordingServer(); // afterEach closes it
  });

  it('gives a streamed body as long as its source takes: the timeout counts from its last byte', async () => {
    const client = factory.create({ name: 't-stream', baseUrl: srv.url, retry: { baseDelayMs: 5 } });
    const slowly = () =>
      Readable.from(
        (async function* () {
          for (let i = 0; i < 4; i++) {
            await new Promise((r) => setTimeout(r, 250));
            yield Buffer.from(`part ${i};`);
          }
        })(),
      );
    srv.reply(json(201, { id: 'f1' }));
    const res = await client.post('/files', { stream: slowly(), idempotent: false, timeoutMs: 400 });
    expect([res.status, srv.seen[0].body]).toEqual([201, 'part 0;part 1;part 2;part 3;']);
    // After the last byte the usual timeout holds; a create is then never repeated.
    srv.setFallback(() => undefined);
    const started = Date.now();
    const err = await client.post('/files', { stream: slowly(), idempotent: false, timeoutMs: 400 }).catch((e) => e);
    expect(err).toBeInstanceOf(HttpOutcomeUnknownError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000 + 400);
    expect(srv.seen).toHaveLength(2);
  });

  it('throws a failing streamed source as it is, sends it once, and never holds it against the circuit', async () => {
    const client = factory.create({
      name: 't-stream-source',
      baseUrl: srv.url,
      retry: { baseDelayMs: 5 },
      breaker: { failureThreshold: 2, openMs: 60_000 },
    });
    for (let i = 0; i < 3; i++) {
      const failure = new Error(`the uploader left (${i})`);
      const source = Readable.from(
        (async function* () {
          yield Buffer.from('first bytes');
          await new Promise((r) => setTimeout(r, 50));
          throw failure;
        })(),
      );
      await expect(client.post('/files', { stream: source, idempotent: false })).rejects.toBe(failure);
    }
    expect(client.circuitState()).toBe('closed');
    expect(srv.seen).toHaveLength(0); // each body broke off: the server never had a whole request
  });

  it('opens the circuit per name after consecutive failures, half-opens after openMs, closes after 2 successes', async () => {
    srv.setFallback(json(500, {}));
    const opts = {
      name: 't-breaker',
      baseUrl: srv.url,
      retry: { maxAttempts: 1 },
      breaker: { failureThreshold: 3, openMs: 300 },
    };
    const a = factory.create(opts);
    const b = factory.create(opts); // another instance with the same name shares the breaker
    for (let i = 0; i < 3; i++) await expect(a.get('/x')).rejects.toBeInstanceOf(HttpStatusError);
    expect(b.circuitState()).toBe('open');
    await expect(b.get('/x')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(srv.seen).toHaveLength(3); // the open circuit did not call the server

    await new Promise((r) => setTimeout(r, 320));
    expect(a.circuitState()).toBe('half_open');
    srv.setFallback(json(200, {}));
    await a.get('/x');
    expect(a.circuitState()).toBe('half_open');
    await a.get('/x');
    expect(a.circuitState()).toBe('closed');
    // A different name has its own breaker.
    expect(factory.create({ ...opts, name: 't-breaker-other' }).circuitState()).toBe('closed');
  });

  it('keeps breakers per factory: the same name in another app stays closed while this one is open', async () => {
    srv.setFallback(json(500, {}));
    const opts = { name: 'replicate', baseUrl: srv.url, retry: { maxAttempts: 1 }, breaker: { failureThreshold: 2 } };
    const other = httpClientFactory();
    try {
      const mine = factory.create(opts);
      for (let i = 0; i < 2; i++) await expect(mine.get('/x')).rejects.toBeInstanceOf(HttpStatusError);
      await expect(mine.get('/x')).rejects.toBeInstanceOf(CircuitOpenError);
      srv.setFallback(json(200, { ok: true }));
      const theirs = other.create(opts);
      expect(theirs.circuitState()).toBe('closed');
      await expect(theirs.get('/x')).resolves.toMatchObject({ status: 200 });
      expect(srv.seen).toHaveLength(3);
    } finally {
      await other.close();
    }
  });

  it('logs each call at DEBUG with method, host, path, status and duration, never the query or the body', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-http-log-'));
    const file = path.join(dir, 'cloud.log');
    configureStructuredLogging({ level: 'DEBUG', logFile: file, stdout: false });
    try {
      srv.reply(json(503, {}, { 'retry-after': '0' }), json(200, { secret_output: 'body-secret' }));
      const client = factory.create({ name: 't-log', baseUrl: srv.url + '/v1' });
      await runWithCorrelationId('log-corr', () =>
        client.post('/predictions', { body: { token: 'body-secret-2' }, query: { api_key: 'query-secret' } }),
      );
      const hooked = factory.create({ name: 't-log-hook', baseUrl: srv.url, redactPaths: true });
      await hooked.post('/hooks/path-secret-123', { body: {} });
      await flushLogs();
      const text = fs.readFileSync(file, 'utf8');
      for (const secret of ['query-secret', 'body-secret', 'path-secret-123']) expect(text).not.toContain(secret);
      const lines = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const calls = lines.filter((l) => l.extra.http_client === 't-log' && 'status' in l.extra);
      expect(
        calls.map((l) => [l.level, l.correlation_id, l.extra.method, l.extra.path, l.extra.status, l.extra.attempt]),
      ).toEqual([
        ['DEBUG', 'log-corr', 'POST', '/v1/predictions', 503, 1],
        ['DEBUG', 'log-corr', 'POST', '/v1/predictions', 200, 2],
      ]);
      expect(calls[0].extra.host).toBe(new URL(srv.url).host);
      expect(typeof calls[0].extra.duration_ms).toBe('number');
      expect(lines.find((l) => l.extra.http_client === 't-log-hook' && 'status' in l.extra).extra.path).toBe('/…');
    } finally {
      configureStructuredLogging({ level: 'ERROR', logFile: null });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses Retry-After seconds and dates', () => {
    const now = Date.parse('2024-01-15T10:30:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Mon, 15 Jan 2024 10:30:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Mon, 15 Jan 2024 10:29:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
