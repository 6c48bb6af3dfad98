/**
 * npm run bench:sse — SSE delivery latency and memory per connection.
 *
 * One instance (this process) on the local PostgreSQL, 1,000 concurrent SSE clients (a child process reading raw
 * http streams) that may all see every event. Publishes 2,000 events through EventsService paced at 50/s and prints
 * the delivery latency (commit → client receive) p50/p99, deliveries per second, and RSS per connection of the
 * serving process; then paces 10, 25, 50, 100… events/s for 3 s each until p99 goes over 100 ms and prints the
 * highest rate that held;
 * then starts a second instance (another child process), splits the clients 500/500 and prints p99 across both.
 * Targets: p99 < 100 ms at 50/s, < 50 KB per connection.
 *
 * "Commit" is the moment the publishing transaction's promise resolves in this process; "receive" is when the
 * client process reads the chunk holding the event's id. Both are wall clock (performance.timeOrigin + now()) on
 * the same machine. Env: BENCH_CLIENTS (1000), BENCH_EVENTS (2000), BENCH_RATE (50), TEST_DATABASE_URL.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { DataSource } from 'typeorm';
import { createApp, RunningApp } from '../src/app.factory';
import { generateApiKey } from '../src/auth/api-key.util';
import { loadAppConfig } from '../src/config';
import { EventsService } from '../src/events';
import { databaseUrl, withAdminClient } from '../test/support/test-database';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 2000);
const RATE = Number(process.env.BENCH_RATE ?? 50);
const SWEEP_RATES = [10, 25, 50, 100, 200, 400, 800];
const SWEEP_SECONDS = 3;
const TWO_INSTANCE_EVENTS = 500;
const P99_TARGET_MS = 100;
const RSS_TARGET_KB = 50;
const DB_NAME = 'test_bench_sse';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function cpuCores(since: NodeJS.CpuUsage, wallSince: number): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000 / (now() - wallSince);
}

/** Bench databases go through the tests' helpers, so they too must have "test" in their name. */
const dbUrl = databaseUrl;
const admin = (sql: string): Promise<void> => withAdminClient(async (c) => void (await c.query(sql)));

function startInstance(key: string, dataDir: string): Promise<RunningApp> {
  const config = loadAppConfig(
    {
      DATABASE_URL: dbUrl(DB_NAME),
      SIMPLETUNER_ADMIN_API_KEY: key,
      SIMPLETUNER_DATA_DIR: dataDir,
      SIMPLETUNER_LOG_LEVEL: 'ERROR',
      SIMPLETUNER_ENTERPRISE_CONFIG: '',
      SIMPLETUNER_SSE_MAX_PER_USER: String(CLIENTS * 2),
      HOST: '127.0.0.1',
    },
    dataDir,
  );
  return createApp(config, { port: 0 });
}

// ---------------------------------------------------------------------------------------------------------------
// Child roles
// ---------------------------------------------------------------------------------------------------------------

type ToClients =
  | { kind: 'connect'; urls: string[]; count: number; key: string }
  | { kind: 'commit'; id: string; t: number }
  | { kind: 'measure'; label: string; ids: string[] }
  | { kind: 'disconnect' };

interface Summary {
  label: string;
  samples: number;
  expected: number;
  p50: number;
  p99: number;
  max: number;
  firstCommit: number;
  lastReceive: number;
  byUrl: Record<string, { p99: number; samples: number }>;
  /** Events per second the publisher reached (set by the orchestrator). */
  achievedRate?: number;
  /** CPU the clients process used over the window, in cores (1.0 = one core busy all the time). */
  clientCpu: number;
  /** The same for the serving (and publishing) process A. */
  serverCpu?: number;
}

/** The clients process: N raw SSE readers; latencies are computed here once a commit time is known. */
function clientsRole(): void {
  const send = (m: unknown) => process.send!(m);
  let sockets: http.ClientRequest[] = [];
  const commits = new Map<string, number>();
  const waiting = new Map<string, Array<{ t: number; url: number }>>();
  let tracked = new Set<string>();
  let latencies: Array<{ ms: number; url: number }> = [];
  let lastReceive = 0;
  let urls: string[] = [];
  let cpu0 = process.cpuUsage();
  let wall0 = now();

  const record = (id: string, t: number, url: number) => {
    if (!tracked.has(id)) return;
    const c = commits.get(id);
    if (c === undefined) {
      let list = waiting.get(id);
      if (!list) waiting.set(id, (list = []));
      list.push({ t, url });
      return;
    }
    latencies.push({ ms: Math.max(0, t - c), url });
    if (t > lastReceive) lastReceive = t;
  };

  const open = (url: string, urlIndex: number, key: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.get(`${url}/api/events`, { headers: { 'X-API-Key': key }, agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        res.setEncoding('utf8');
        let tail = '';
        let connected = false;
        res.on('data', (chunk: string) => {
          const t = now();
          const text = tail + chunk;
          const cut = text.lastIndexOf('\n');
          tail = cut < 0 ? text : text.slice(cut + 1);
          const body = cut < 0 ? '' : text.slice(0, cut);
          if (!connected && body.includes(': connected')) {
            connected = true;
            resolve();
          }
          for (let at = body.indexOf('id: '); at >= 0; at = body.indexOf('id: ', at + 4)) {
            if (at > 0 && body[at - 1] !== '\n') continue;
            const end = body.indexOf('\n', at);
            record(body.slice(at + 4, end < 0 ? undefined : end), t, urlIndex);
          }
        });
      });
      req.on('error', reject);
      sockets.push(req);
    });

  process.on('message', (msg: ToClients) => void onMessage(msg));
  async function onMessage(msg: ToClients): Promise<void> {
    if (msg.kind === 'connect') {
      urls = msg.urls;
      for (let i = 0; i < msg.count; i += 50) {
        const batch = [];
        for (let j = i; j < Math.min(msg.count, i + 50); j++)
          batch.push(open(urls[j % urls.length], j % urls.length, msg.key));
        await Promise.all(batch);
      }
      send({ kind: 'connected', count: sockets.length });
    } else if (msg.kind === 'commit') {
      commits.set(msg.id, msg.t);
      for (const r of waiting.get(msg.id) ?? []) record(msg.id, r.t, r.url);
      waiting.delete(msg.id);
    } else if (msg.kind === 'measure') {
      // Starts a measurement window over these ids (sent before publishing) or closes it (ids empty).
      if (msg.ids.length > 0) {
        cpu0 = process.cpuUsage();
        wall0 = now();
        tracked = new Set(msg.ids);
        latencies = [];
        lastReceive = 0;
        commits.clear();
        waiting.clear();
        send({ kind: 'measuring' });
        return;
      }
      const sorted = latencies.map((l) => l.ms).sort((a, b) => a - b);
      const pct = (xs: number[], p: number) =>
        xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN;
      const byUrl: Summary['byUrl'] = {};
      urls.forEach((u, i) => {
        const xs = latencies
          .filter((l) => l.url === i)
          .map((l) => l.ms)
          .sort((a, b) => a - b);
        byUrl[u] = { p99: pct(xs, 99), samples: xs.length };
      });
      const summary: Summary = {
        label: msg.label,
        samples: sorted.length,
        expected: tracked.size * sockets.length,
        p50: pct(sorted, 50),
        p99: pct(sorted, 99),
        max: sorted[sorted.length - 1] ?? NaN,
        firstCommit: Math.min(...commits.values()),
        lastReceive,
        byUrl,
        clientCpu: cpuCores(cpu0, wall0),
      };
      send({ kind: 'summary', summary });
    } else if (msg.kind === 'disconnect') {
      for (const s of sockets) s.destroy();
      sockets = [];
      await sleep(300);
      send({ kind: 'disconnected' });
    }
  }
  send({ kind: 'ready' });
}

/** A second instance in its own process, on the same database. */
async function instanceRole(): Promise<void> {
  const [key, dataDir] = [process.env.BENCH_KEY!, process.env.BENCH_DATA_DIR!];
  const app = await startInstance(key, dataDir);
  process.send!({ kind: 'instance', url: app.url });
  process.on('message', (m: { kind: string }) => {
    if (m.kind !== 'stop') return;
    void app.close().then(() => {
      process.send!({ kind: 'stopped' });
      process.exit(0);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Orchestrator (instance A + publisher)
// ---------------------------------------------------------------------------------------------------------------

function spawnRole(role: string, env: Record<string, string> = {}): ChildProcess {
  return fork(__filename, [role], {
    execArgv: ['-r', path.join(__dirname, '..', 'tools', 'ts-register.js')],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function nextMessage<T>(child: ChildProcess, kind: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${kind}`)), timeoutMs);
    const on = (m: { kind: string }) => {
      if (m.kind !== kind) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

async function settledRss(): Promise<number> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(200);
  }
  return process.memoryUsage().rss;
}

/**
 * Publishes `count` events through EventsService at `rate` per second (not waiting for one to finish before the
 * next is due, at most 8 in flight), telling the clients each commit time. Ids are reserved up front so that the
 * clients know which ids belong to the window.
 */
async function publishPaced(
  app: RunningApp,
  clients: ChildProcess,
  label: string,
  count: number,
  rate: number,
): Promise<Summary> {
  const db = app.app.get(DataSource);
  const events = app.app.get(EventsService);
  const [{ last }] = await db.query(
    `SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS last FROM events_id_seq`,
  );
  // Ids are taken from the sequence at insert; nothing else publishes during the bench, so they follow on.
  const first = BigInt(last) + 1n;
  const ids = Array.from({ length: count }, (_, i) => (first + BigInt(i)).toString());
  clients.send({ kind: 'measure', label, ids });
  await nextMessage(clients, 'measuring');
  const cpu0 = process.cpuUsage();
  const start = now();
  let inFlight = 0;
  const done: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    while (inFlight >= 8) await sleep(1);
    inFlight++;
    done.push(
      events
        .publish({
          type: 'job_status_changed',
          jobId: `bench-${i}`,
          data: { status: 'running', previous_status: 'queued' },
        })
        .then((e) => {
          clients.send({ kind: 'commit', id: e.id, t: now() });
        })
        .finally(() => inFlight--),
    );
  }
  await Promise.all(done);
  const publishSeconds = (now() - start) / 1000;
  await sleep(1500); // let the last deliveries arrive
  clients.send({ kind: 'measure', label, ids: [] });
  const serverCpu = cpuCores(cpu0, start);
  const { summary } = await nextMessage<{ summary: Summary }>(clients, 'summary');
  return Object.assign(summary, { achievedRate: count / publishSeconds, serverCpu });
}

function line(s: Summary & { achievedRate?: number }): string {
  const lost = s.expected - s.samples;
  return (
    `${s.label.padEnd(26)} p50 ${fmt(s.p50).padStart(7)} ms   p99 ${fmt(s.p99).padStart(7)} ms   max ${fmt(s.max).padStart(7)} ms` +
    `   deliveries ${s.samples}/${s.expected}${lost ? ` (${lost} missing)` : ''}` +
    (s.achievedRate ? `   published ${fmt(s.achievedRate)}/s` : '') +
    `   cpu A ${fmt(s.serverCpu ?? NaN, 2)} clients ${fmt(s.clientCpu, 2)}`
  );
}

async function main(): Promise<void> {
  const started = now();
  const key = generateApiKey();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-bench-sse-'));
  await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${DB_NAME}`);
  const a = await startInstance(key, dataDir);
  const clients = spawnRole('clients');
  let b: ChildProcess | undefined;
  try {
    await nextMessage(clients, 'ready');
    console.log(
      `bench:sse — ${CLIENTS} clients, ${EVENTS} events at ${RATE}/s, PostgreSQL ${DB_NAME}; ${os.cpus().length} CPUs, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );

    const rss0 = await settledRss();
    const t0 = now();
    clients.send({ kind: 'connect', urls: [a.url], count: CLIENTS, key });
    await nextMessage(clients, 'connected');
    console.log(`connected ${CLIENTS} clients in ${fmt((now() - t0) / 1000, 2)} s`);
    const rss1 = await settledRss();
    const perConnKb = (rss1 - rss0) / CLIENTS / 1024;

    const main = await publishPaced(a, clients, `${EVENTS} events @ ${RATE}/s`, EVENTS, RATE);
    const deliverySeconds = (main.lastReceive - main.firstCommit) / 1000;
    console.log(line(main));
    console.log(
      `deliveries per second      ${fmt(main.samples / deliverySeconds, 0)} (${main.samples} in ${fmt(deliverySeconds, 2)} s)`,
    );
    console.log(
      `RSS per connection         ${fmt(perConnKb, 1)} KB (serving process ${fmt(rss0 / 2 ** 20)} → ${fmt(rss1 / 2 ** 20)} MiB)`,
    );

    let best = 0;
    for (const rate of SWEEP_RATES) {
      const s = await publishPaced(a, clients, `sweep @ ${rate}/s`, rate * SWEEP_SECONDS, rate);
      console.log(line(s));
      const held = s.p99 < P99_TARGET_MS && s.samples === s.expected && (s.achievedRate ?? 0) >= rate * 0.9;
      if (!held) break;
      best = rate;
    }
    console.log(
      `highest paced rate with p99 < ${P99_TARGET_MS} ms: ${best}/s (${fmt((best * CLIENTS) / 1000, 0)}k deliveries/s)`,
    );

    clients.send({ kind: 'disconnect' });
    await nextMessage(clients, 'disconnected');
    b = spawnRole('instance', {
      BENCH_KEY: key,
      BENCH_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'st-bench-sse-b-')),
    });
    const { url: bUrl } = await nextMessage<{ url: string }>(b, 'instance');
    clients.send({ kind: 'connect', urls: [a.url, bUrl], count: CLIENTS, key });
    await nextMessage(clients, 'connected');
    const two = await publishPaced(a, clients, `two instances @ ${RATE}/s`, TWO_INSTANCE_EVENTS, RATE);
    console.log(line(two));
    console.log(
      `  published on A; clients on A p99 ${fmt(two.byUrl[a.url].p99)} ms (${two.byUrl[a.url].samples}), ` +
        `on B p99 ${fmt(two.byUrl[bUrl].p99)} ms (${two.byUrl[bUrl].samples})`,
    );

    console.log('targets:');
    console.log(
      `  p99 at ${RATE}/s < ${P99_TARGET_MS} ms: ${fmt(main.p99)} ms → ${main.p99 < P99_TARGET_MS ? 'OK' : 'MISSED'}`,
    );
    console.log(
      `  RSS per connection < ${RSS_TARGET_KB} KB: ${fmt(perConnKb)} KB → ${perConnKb < RSS_TARGET_KB ? 'OK' : 'MISSED'}`,
    );
    console.log(`  p99 across two instances: ${fmt(two.p99)} ms → ${two.p99 < P99_TARGET_MS ? 'OK' : 'MISSED'}`);
    console.log(
      `  every delivery arrived: ${main.samples === main.expected && two.samples === two.expected ? 'OK' : 'MISSED'}`,
    );
    console.log(
      `total ${fmt((now() - started) / 1000)} s; machine load at the end ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (cpu columns: cores used by the process)`,
    );
  } finally {
    clients.send({ kind: 'disconnect' });
    await nextMessage(clients, 'disconnected', 5000).catch(() => undefined);
    clients.kill();
    if (b) {
      b.send({ kind: 'stop' });
      await nextMessage(b, 'stopped', 10_000).catch(() => b!.kill());
    }
    await a.close();
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const role = process.argv[2];
if (role === 'clients') clientsRole();
else if (role === 'instance') void instanceRole();
else
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
