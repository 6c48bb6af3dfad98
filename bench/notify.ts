/**
 * npm run bench:notify — issue #27 "Done when" 5.
 *
 * Runs the app from source in a child process (src/main.ts through tools/ts-register.js, logs at WARNING) on the
 * local PostgreSQL (a fresh database test_bench_notify_<pid>, dropped at the end), with a local HTTP receiver in
 * this process, and measures:
 *   (1) fan-out: one webhook channel hearing `job.submitted`; 10,000 such events are written to the event log in one
 *       statement, and the clock runs until the receiver has every delivery (signed, one attempt each): deliveries/s
 *       end to end (target ≥ 500/s);
 *   (2) submit throughput (autocannon, POST /api/cloud/jobs/submit on the simulator) with no channel and with ten
 *       active channels hearing `job.submitted` (every submit makes ten deliveries), in alternating rounds so that
 *       neither side has the smaller table: req/s of each, their ratio (target ≥ 0.9), and how late the deliveries
 *       went out (each round with channels waits until all its deliveries arrived before the next round starts, so
 *       no round pays for another's deliveries). Deliveries yield to a busy API for up to
 *       SIMPLETUNER_NOTIFY_MAX_DEFER_SECONDS (default 30; --defer=N sets it, 0 turns yielding off).
 *
 * Options: --events=N (10000), --seconds=N per submit round (10), --rounds=N pairs of rounds (2), --connections=N
 * (20), --concurrency=N (SIMPLETUNER_NOTIFY_CONCURRENCY, 32), --defer=N. Env: TEST_DATABASE_URL (the server to
 * create the bench database on).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { generateApiKey } from '../src/auth/api-key.util';
import { WebhookReceiver } from '../test/support/webhook-receiver';
import { admin, dbUrl, fmt } from './queue-common';
import { BENCH_LIMITS_ENV } from './api-rate-limits';

const ROOT = path.join(__dirname, '..');
const DB_NAME = `test_bench_notify_${process.pid}`;

const flags = new Map(
  process.argv.slice(2).map((a) => {
    const m = /^--([a-z-]+)=(\d+)$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a} (see the comment at the top of bench/notify.ts)`);
    return [m[1], Number(m[2])] as const;
  }),
);
const EVENTS = flags.get('events') ?? 10_000;
const SECONDS = flags.get('seconds') ?? 10;
const CONNECTIONS = flags.get('connections') ?? 20;
const CONCURRENCY = flags.get('concurrency') ?? 32;
const ROUNDS = flags.get('rounds') ?? 2;
const DEFER = flags.get('defer');

/** A port free now (the app logs only warnings, so it is told its port rather than asked for it). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startApp(env: Record<string, string>): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    ['-r', path.join(ROOT, 'tools/ts-register.js'), path.join(ROOT, 'src/main.ts')],
    {
      cwd: fs.mkdtempSync(path.join(os.tmpdir(), 'st-bench-notify-')),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, PORT: String(port) },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      gone = true;
      resolve();
    }),
  );
  for (;;) {
    if (gone) throw new Error('the app exited before it was ready');
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function api(url: string, key: string, method: string, route: string, body?: unknown) {
  const res = await fetch(url + route, {
    method,
    headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function submitRate(url: string, key: string): Promise<number> {
  const r = await autocannon({
    url: `${url}/api/cloud/jobs/submit`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
    body: JSON.stringify({ config_name: 'bench-notify', provider: 'simulator', config: {} }),
  });
  const ok = r.statusCodeStats?.['201']?.count ?? 0;
  if (ok < r.requests.total * 0.99) throw new Error(`submits failed: ${JSON.stringify(r.statusCodeStats)}`);
  return ok / SECONDS;
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${DB_NAME}"`);
  const receiver = await new WebhookReceiver().start();
  const key = generateApiKey();
  const app = await startApp({
    DATABASE_URL: dbUrl(DB_NAME),
    SIMPLETUNER_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'st-bench-notify-data-')),
    SIMPLETUNER_ENTERPRISE_CONFIG: '',
    SIMPLETUNER_ADMIN_API_KEY: key,
    // Inbound limits on, as in production, but far above what this bench sends.
    ...BENCH_LIMITS_ENV,
    SIMPLETUNER_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    SIMPLETUNER_LOG_LEVEL: 'WARNING',
    SIMPLETUNER_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
    SIMPLETUNER_NOTIFY_INTERVAL: '0.1',
    SIMPLETUNER_NOTIFY_CONCURRENCY: String(CONCURRENCY),
    ...(DEFER === undefined ? {} : { SIMPLETUNER_NOTIFY_MAX_DEFER_SECONDS: String(DEFER) }),
    SIMPLETUNER_QUEUE_INTERVAL: '3600',
    SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
  });
  const db = new Client({ connectionString: dbUrl(DB_NAME) });
  await db.connect();
  try {
    const channel = (id: number) => ({
      kind: 'webhook',
      name: `bench ${id}`,
      owner_scope: 'global',
      config: { url: `${receiver.url}/hook/${id}` },
      events: ['job.submitted'],
    });
    const fanOut = await api(app.url, key, 'POST', '/api/notifications/channels', channel(0));
    const started = performance.now();
    await db.query(
      `INSERT INTO events (type, job_id, data)
       SELECT 'job_submitted', 'bench-' || n, jsonb_build_object('type', 'job_submitted', 'job_id', 'bench-' || n)
         FROM generate_series(1, $1::int) AS n`,
      [EVENTS],
    );
    await waitFor(`${EVENTS} deliveries`, () => receiver.requests.length >= EVENTS, 600_000);
    const seconds = (performance.now() - started) / 1000;
    const perSecond = EVENTS / seconds;
    const ids = new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size;
    console.log(
      `fan-out: ${EVENTS} events → ${ids} deliveries in ${fmt(seconds, 2)} s: ${fmt(perSecond, 0)} deliveries/s ` +
        `(target ≥ 500: ${perSecond >= 500 ? 'met' : 'NOT met'})`,
    );
    await api(app.url, key, 'DELETE', `/api/notifications/channels/${String(fanOut.id)}`);

    const none: number[] = [];
    const ten: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      none.push(await submitRate(app.url, key));
      const ids: string[] = [];
      for (let i = 1; i <= 10; i++)
        ids.push(String((await api(app.url, key, 'POST', '/api/notifications/channels', channel(i))).id));
      receiver.reset();
      const rate = await submitRate(app.url, key);
      ten.push(rate);
      const ended = Date.now();
      const meanwhile = receiver.requests.length;
      const expected = Math.round(rate * SECONDS) * 10;
      await waitFor(`${expected} deliveries`, () => receiver.requests.length >= expected, 300_000);
      const lateness = receiver.requests.map((r) => r.at - Date.parse(String(r.json?.timestamp)));
      console.log(
        `  round ${round + 1}: ${fmt(none[round], 0)} req/s with no channel, ${fmt(rate, 0)} with ten ` +
          `(${meanwhile} deliveries during the round; all ${receiver.requests.length} arrived ` +
          `${fmt((Date.now() - ended) / 1000, 1)} s after it, the latest ${fmt(Math.max(...lateness) / 1000, 1)} s ` +
          `after its event)`,
      );
      for (const id of ids) await api(app.url, key, 'DELETE', `/api/notifications/channels/${id}`);
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const ratio = sum(ten) / sum(none);
    console.log(
      `submit: ${fmt(sum(none) / ROUNDS, 0)} req/s with no channel, ${fmt(sum(ten) / ROUNDS, 0)} req/s with ten ` +
        `(means of ${ROUNDS} rounds each): ratio ${fmt(ratio, 2)} (target ≥ 0.9: ${ratio >= 0.9 ? 'met' : 'NOT met'})`,
    );
  } finally {
    await db.end();
    await app.stop();
    await receiver.stop();
    await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
