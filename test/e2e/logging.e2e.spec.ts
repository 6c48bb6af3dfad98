import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Body, Controller, Get, Injectable, Logger, Module, Param, Post, Query, Req } from '@nestjs/common';
import type { Request } from 'express';
import { Public } from '../../src/auth';
import { HttpClientFactory } from '../../src/http';
import { configureStructuredLogging, flushLogs, getCorrelationId, getLogger, LogContext } from '../../src/logging';
import { BackgroundTaskManager, Interval, TickContext } from '../../src/scheduling';
import { http as call } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

const log = getLogger('simpletuner.cloud.test.probe');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Headers seen by the outbound target: a real loopback server. */
const target = { seen: [] as http.IncomingHttpHeaders[], url: '', server: null as http.Server | null };

@Controller('test-logging')
class ProbeController {
  constructor(private readonly http: HttpClientFactory) {}

  /** Three lines per request: before an await, in a timer, in a promise chain. */
  @Public()
  @Get('work/:n')
  work(@Param('n') n: string): Promise<{ correlation_id: string }> {
    return LogContext.run({ request_n: Number(n) }, async () => {
      log.info('probe start');
      await sleep(Math.random() * 15);
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          log.info('probe timer');
          resolve();
        }, Math.random() * 5),
      );
      await Promise.resolve().then(() => log.info('probe end'));
      return { correlation_id: getCorrelationId() };
    });
  }

  /** Code that uses Nest's Logger directly still lands in the pipeline. */
  @Public()
  @Get('nest-logger')
  nestLogger(): { ok: true } {
    LogContext.run({ job_id: 'nest-job' }, () => new Logger('ProbeNest').warn('Nest logger probe'));
    return { ok: true };
  }

  @Public()
  @Post('jobs/:id')
  async submit(@Param('id') id: string): Promise<{ ok: true }> {
    await LogContext.run({ job_id: id, provider: 'replicate' }, async () => {
      log.info('Job submitted successfully', { cost_estimate: 2.5 });
      await sleep(1);
      log.info('Job status polling picked the job up');
    });
    return { ok: true };
  }

  /** Careless code that logs a whole request and a provider config: redaction must still hold. */
  @Public()
  @Post('careless')
  careless(@Req() req: Request, @Body() body: Record<string, unknown>, @Query('api_key') q?: string): { ok: true } {
    log.warning(`Careless dump of ${req.originalUrl}`, {
      headers: req.headers,
      body,
      query_key: q,
      url: req.originalUrl,
    });
    log.error('Provider call failed', { error: new Error(`401 from provider with token ${String(body.api_token)}`) });
    return { ok: true };
  }

  @Public()
  @Get('outbound')
  async outbound(): Promise<{ status: number }> {
    const client = this.http.create({ name: 'probe-target', baseUrl: target.url, breaker: false });
    const res = await client.get('/thing', { query: { api_key: 'st_' + 'Q'.repeat(32) } });
    return { status: res.status };
  }
}

/** A tick that calls out: its id is what the outbound call must carry. */
const probeTick = { id: '' };

@Injectable()
class ProbeTasks {
  constructor(private readonly http: HttpClientFactory) {}

  // Run by the test through the task manager; the schedule itself never fires within a test.
  @Interval('probe_tick', 3600)
  async probe(ctx: TickContext): Promise<void> {
    probeTick.id = ctx.correlationId;
    await this.http.create({ name: 'probe-target', baseUrl: target.url, breaker: false }).get('/tick');
  }
}

@Module({ controllers: [ProbeController], providers: [ProbeTasks] })
class ProbeModule {}

describe('logging end to end', () => {
  let app: TestApp;
  let logFile: string;
  let logDir: string;
  const readLog = async (): Promise<string[]> => {
    await flushLogs();
    return fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
  };
  const parsed = async () => (await readLog()).map((l) => JSON.parse(l) as Record<string, any>);

  beforeAll(async () => {
    target.server = http.createServer((req, res) => {
      target.seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => target.server!.listen(0, '127.0.0.1', r));
    target.url = `http://127.0.0.1:${(target.server.address() as AddressInfo).port}`;
    logDir = makeTempDir('st-e2e-log-');
    logFile = path.join(logDir, 'var', 'log', 'simpletuner', 'cloud.log');
    app = await startTestApp({
      env: { SIMPLETUNER_LOG_FILE: logFile, SIMPLETUNER_LOG_LEVEL: 'DEBUG' },
      imports: [ProbeModule],
    });
    // Same file and level; only stdout is left out so the test output stays readable.
    configureStructuredLogging({ level: 'DEBUG', logFile, stdout: false });
  });
  afterAll(async () => {
    await app?.stop();
    target.server?.close();
    configureStructuredLogging({ level: 'ERROR', logFile: null });
    fs.rmSync(logDir, { recursive: true, force: true });
  });

  it("writes Nest's own lines through the pipeline as simpletuner.cloud.nest.<Context> (boot: null id)", async () => {
    const lines = await parsed();
    const started = lines.find((l) => l.message === 'Nest application successfully started');
    expect(started).toMatchObject({
      level: 'INFO',
      logger: 'simpletuner.cloud.nest.NestApplication',
      correlation_id: null,
      extra: {},
    });
    expect(Object.keys(started!)).toEqual([
      'timestamp',
      'level',
      'logger',
      'message',
      'correlation_id',
      'source',
      'extra',
    ]);
    expect(
      lines.some((l) => l.logger === 'simpletuner.cloud.nest.RouterExplorer' && /test-logging\/work/.test(l.message)),
    ).toBe(true);
  });

  it("routes a feature's own Nest Logger through the pipeline with the request id and LogContext", async () => {
    await call(app.url, 'GET', '/test-logging/nest-logger', { headers: { 'X-Correlation-ID': 'nest-req-1' } });
    const line = (await parsed()).find((l) => l.message === 'Nest logger probe');
    expect(line).toMatchObject({
      level: 'WARNING',
      logger: 'simpletuner.cloud.nest.ProbeNest',
      correlation_id: 'nest-req-1',
      // No compile-time site for Nest's Logger: one stack capture finds the caller (here an arrow function).
      source: { file: 'logging.e2e.spec.ts', line: expect.any(Number), function: '<anonymous>' },
      extra: { job_id: 'nest-job' },
    });
  });

  it('keeps 200 interleaved concurrent requests apart: no line carries another request id or fields', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, n) =>
        call(app.url, 'GET', `/test-logging/work/${n}`, { headers: { 'X-Correlation-ID': `req-${n}.e2e` } }),
      ),
    );
    results.forEach((r, n) => {
      expect(r.status).toBe(200);
      expect(r.headers.get('x-correlation-id')).toBe(`req-${n}.e2e`);
      expect(r.body.correlation_id).toBe(`req-${n}.e2e`);
    });
    const probe = (await parsed()).filter(
      (l) => l.logger === 'simpletuner.cloud.test.probe' && l.message.startsWith('probe '),
    );
    expect(probe).toHaveLength(600);
    for (const l of probe) {
      expect(l.correlation_id).toBe(`req-${l.extra.request_n}.e2e`);
      expect(Object.keys(l.extra)).toEqual(['request_n']);
    }
  });

  it("lets the README's grep and jq recipes select the right lines of the file the app wrote", async () => {
    const sub = await call(app.url, 'POST', '/test-logging/jobs/xyz789', { headers: { 'X-Correlation-ID': 'abc123' } });
    expect(sub.status).toBe(201);
    await call(app.url, 'POST', '/test-logging/jobs/other-job', { headers: { 'X-Correlation-ID': 'abc1234' } });
    await flushLogs();
    const grep = execFileSync('grep', ['"correlation_id": "abc123"', logFile], { encoding: 'utf8' }).trim().split('\n');
    // The work of the request, then its request line (written when the response ends).
    expect(grep.map((l) => JSON.parse(l).message)).toEqual([
      'Job submitted successfully',
      'Job status polling picked the job up',
      expect.stringMatching(/^POST \/test-logging\/jobs\/xyz789 201 \(\d+(\.\d)? ms\)$/),
    ]);
    const jq = (filter: string) =>
      execFileSync('jq', ['-c', filter], { input: fs.readFileSync(logFile), encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter(Boolean);
    const byId = jq('select(.correlation_id == "abc123")').map((l) => JSON.parse(l));
    expect(byId.map((l) => l.message)).toEqual([
      'Job submitted successfully',
      'Job status polling picked the job up',
      expect.stringMatching(/^POST \/test-logging\/jobs\/xyz789 201 /),
    ]);
    expect(byId[2]).toMatchObject({
      logger: 'simpletuner.cloud.http',
      extra: { method: 'POST', route: '/test-logging/jobs/:id', status: 201 },
    });
    expect(byId[0].extra).toEqual({ job_id: 'xyz789', provider: 'replicate', cost_estimate: 2.5 });
    const byJob = jq('select(.extra.job_id == "xyz789")').map((l) => JSON.parse(l));
    expect(byJob.every((l) => l.correlation_id === 'abc123')).toBe(true);
    expect(byJob).toHaveLength(2);
    const polling = jq('select(.message | contains("polling")) | {timestamp, message}').map((l) => JSON.parse(l));
    expect(polling.filter((l) => l.message === 'Job status polling picked the job up')).toHaveLength(2);
    expect(Object.keys(polling[0])).toEqual(['timestamp', 'message']);
  });

  it('replaces an X-Correlation-ID of 500 characters, with bad characters or with a newline, never logging it', async () => {
    const long = 'L0NGMARK'.repeat(63).slice(0, 500);
    const a = await call(app.url, 'GET', '/health/live', { headers: { 'X-Correlation-ID': long } });
    const b = await call(app.url, 'GET', '/api/users/me', { headers: { 'X-Correlation-ID': 'BADMARK <script>' } });
    expect(a.headers.get('x-correlation-id')).toMatch(/^[0-9a-f]{12}$/);
    expect(b.status).toBe(401);
    expect(b.headers.get('x-correlation-id')).toMatch(/^[0-9a-f]{12}$/);
    expect(b.body.correlation_id).toBe(b.headers.get('x-correlation-id'));

    // A raw newline never reaches express (Node's parser refuses it): still the one error body with a fresh id.
    const port = Number(new URL(app.url).port);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: NLMARK\ninjected\r\n\r\n'),
      );
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    const rawId = /X-Correlation-ID: ([0-9a-f]{12})\r\n/.exec(raw)?.[1];
    expect(rawId).toBeDefined();
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({
      error: 'validation_error',
      message: 'Malformed HTTP request',
      correlation_id: rawId,
    });

    const text = (await readLog()).join('\n');
    for (const mark of ['L0NGMARK', 'BADMARK', 'NLMARK', 'injected']) expect(text).not.toContain(mark);
    const lines = await parsed();
    const warned = lines.filter(
      (l) => l.level === 'WARNING' && l.message === 'Replaced an invalid X-Correlation-ID header',
    );
    expect(warned.map((l) => l.correlation_id)).toEqual(
      expect.arrayContaining([a.headers.get('x-correlation-id'), b.headers.get('x-correlation-id')]),
    );
    expect(warned.find((l) => l.correlation_id === a.headers.get('x-correlation-id'))!.extra.header_length).toBe(500);
    expect(lines.some((l) => l.message === 'Rejected a malformed HTTP request' && l.correlation_id === rawId)).toBe(
      true,
    );
  });

  it('sends the caller id on outbound calls, from a request and from a background tick', async () => {
    target.seen.length = 0;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await call(app.url, 'GET', '/test-logging/outbound', {
      headers: { 'X-Correlation-ID': 'outbound-req-1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.body).toEqual({ status: 200 });
    // W3C trace context: same trace id, a new span id for our call.
    expect(target.seen[0].traceparent).toMatch(new RegExp(`^00-${traceId}-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$`));
    await app.app.get(BackgroundTaskManager).runTick('probe_tick');
    const tickId = probeTick.id;
    expect(target.seen.map((h) => h['x-correlation-id'])).toEqual(['outbound-req-1', tickId]);
    expect(target.seen[1].traceparent).toBeUndefined(); // the tick has no incoming trace
    expect(tickId).toMatch(/^[0-9a-f]{12}$/);
    // The DEBUG call line has method, host, path, status and duration, and no query string.
    const calls = (await parsed()).filter(
      (l) => l.logger === 'simpletuner.cloud.http.client' && l.extra.path === '/thing',
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      level: 'DEBUG',
      correlation_id: 'outbound-req-1',
      extra: {
        method: 'GET',
        host: new URL(target.url).host,
        path: '/thing',
        status: 200,
        duration_ms: expect.any(Number),
      },
    });
  });

  it('never writes an API key, a bearer token or a webhook secret to the log of the whole run', async () => {
    const user = await call(app.url, 'POST', '/api/users', {
      key: app.adminKey,
      body: { username: 'logan', level: 'researcher' },
    });
    const key = await call(app.url, 'POST', `/api/users/${user.body.id}/api-keys`, {
      key: app.adminKey,
      body: { name: 'k' },
    });
    expect(key.body.key).toMatch(/^st_/);
    const bearer = await call(app.url, 'GET', '/api/users/me', {
      headers: { Authorization: `Bearer ${key.body.key}` },
    });
    expect(bearer.status).toBe(200);
    const whsec = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
    const r8 = 'r8_TOKENabcdefghijklmnopqrstuvwxyz0123';
    await call(app.url, 'POST', `/test-logging/careless?api_key=${app.adminKey}`, {
      headers: {
        Authorization: `Bearer ${app.adminKey}`,
        Cookie: 'session=cookie-secret-1',
        'X-API-Key': key.body.key,
      },
      body: { webhook_secret: whsec, api_token: r8, upload_token: 'upload-secret-2', note: `key is ${key.body.key}` },
    });
    await call(app.url, 'GET', `/api/users/me?api_key=${key.body.key}`, { key: app.adminKey });
    await call(app.url, 'GET', '/test-logging/outbound');
    const text = (await readLog()).join('\n');
    expect(text).toContain('Careless dump'); // the careless lines are there...
    for (const secret of [
      app.adminKey,
      key.body.key,
      whsec,
      r8,
      'cookie-secret-1',
      'upload-secret-2',
      'Q'.repeat(32),
    ]) {
      expect(text).not.toContain(secret); // ...without any secret
    }
    expect(text).not.toMatch(/st_[A-Za-z0-9]{32}/);
    expect(text).not.toMatch(/Bearer (?!\[REDACTED\])/);
  });
});

describe('log file rotation scheduled in the running app, text format', () => {
  it('rotates through the shared tick wrapper when the size check finds the file over SIMPLETUNER_LOG_MAX_BYTES', async () => {
    const dir = makeTempDir('st-e2e-rot-');
    const logFile = path.join(dir, 'cloud.log');
    const app = await startTestApp({
      env: {
        SIMPLETUNER_LOG_FILE: logFile,
        SIMPLETUNER_LOG_LEVEL: 'INFO',
        SIMPLETUNER_LOG_FORMAT: 'text',
        SIMPLETUNER_LOG_MAX_BYTES: '1024',
      },
      imports: [ProbeModule],
    });
    try {
      configureStructuredLogging({ level: 'INFO', jsonOutput: false, logFile, stdout: false });
      await Promise.all(
        Array.from({ length: 10 }, (_, n) =>
          call(app.url, 'GET', `/test-logging/work/${n}`, { headers: { 'X-Correlation-ID': `rot-${n}` } }),
        ),
      );
      await flushLogs();
      expect(fs.statSync(logFile).size).toBeGreaterThan(1024);
      const { LOG_SIZE_CHECK_TASK } = await import('../../src/logging/logging.scheduler');
      await app.app.get(BackgroundTaskManager).runTick(LOG_SIZE_CHECK_TASK);
      await flushLogs();
      const rotated = fs.readFileSync(`${logFile}.1`, 'utf8').trim().split('\n');
      // Text lines, Nest's included, all before the rotation.
      expect(
        rotated.some((l) =>
          /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[INFO\] simpletuner\.cloud\.nest\.NestApplication \(-\): Nest application successfully started$/.test(
            l,
          ),
        ),
      ).toBe(true);
      expect(rotated.filter((l) => / \(rot-\d\): probe end request_n=\d$/.test(l))).toHaveLength(10);
      const current = fs.readFileSync(logFile, 'utf8');
      // The rotation runs in its tick's context: the tick id is the line's correlation id.
      const line =
        /\[INFO\] simpletuner\.cloud\.logging \(([0-9a-f]{12})\): Rotated log file task=log_rotation_size_check tick_id=([0-9a-f]{12}) file=cloud\.log reason=size bytes=\d+ retention=7\n$/.exec(
          current,
        );
      expect(line).not.toBeNull();
      expect(line![1]).toBe(line![2]);
      const state = app.app.get(BackgroundTaskManager).getState(LOG_SIZE_CHECK_TASK);
      expect(state).toMatchObject({ runs: 1, failures: 0 });
    } finally {
      await app.stop();
      configureStructuredLogging({ level: 'ERROR', logFile: null });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
