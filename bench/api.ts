/**
 * npm run bench:api — issue #16 "Build".
 *
 * Starts the real app from the production build (`nest build` first; JSON logs to a file at INFO) in a child
 * process (bench/api-server.ts), once on the local PostgreSQL (a fresh database test_bench_api_<pid>, dropped at the
 * end: two runs at once, or a run beside a test, never share one)
 * and once on PGlite (a temporary data folder), seeds 10,000 jobs across 100 users, and drives it with autocannon
 * (50 connections) from this process:
 *   (a) the framework floor: GET /api/bench/floor, a static 20-item JSON array through the same middleware chain,
 *       without auth or database (bench-only: bench/api-floor.ts, added through createApp's imports, in no build);
 *   (b) GET /api/cloud/jobs?limit=20 with an API key (a researcher with 100 jobs of its own);
 *   (c) POST /api/cloud/jobs/submit (simulator; the default approval rules do not apply to that user);
 *   (d) GET /api/queue/position/:id (a job in the middle of about 1,000 pending entries);
 *   (e) the submit of (c) with five applicable quotas, then (f) = (c′) without them again (bench/api-quotas.ts).
 * Prints req/s, p50 and p99 for each, the ratios b/a, c/a and d/a against their targets, the server's CPU per
 * request against the floor's (PostgreSQL: list ≤ 2×, submit ≤ 4×), and the server's RSS after boot, when idle
 * (30 s after boot, no jobs) and after the run. Throughput targets: PostgreSQL b ≥ 0.5, c ≥ 0.25, d ≥ 0.5 of the
 * floor's req/s; PGlite b ≥ 0.3.
 *
 * Background ticks are held off (queue and polling intervals of an hour) so that each route is measured alone:
 * submitted jobs stay pending, and the queue only grows during (c), which runs last.
 *
 * Options: --seconds=N per route (10), --warmup=N seconds before each (2), --idle=N seconds after boot before the
 * idle reading (30), --short (3 s per route, 1 s warm-up, 5 s idle: a smoke run), --db=postgres|pglite|both,
 * --connections=N (50), --cpu-prof[=dir] (a CPU profile of the server for each route's measured window, with its
 * top costs printed; read one again with bench/cpuprofile-top.ts), --statements (list the SQL each route runs,
 * with its mean time), --no-build (use dist/ as it is), --keep (keep the data: the PostgreSQL database, the data
 * folder and its log file), --rate-limits (instead of the above: the list route with the inbound rate limits off
 * and on, in alternating rounds, and their ratio; bench/api-rate-limits.ts), --rounds=N (its rounds, 6). The
 * limits are on in every mode, far above what a run sends. Env: TEST_DATABASE_URL (the server to create the bench
 * database on).
 */
import { fork, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import autocannon from 'autocannon';
import * as ts from 'typescript';
import { type FromServer, type ToServer, TRACE_ID_PREFIX, type TracedStatement } from './api-protocol';
import { nextMessage } from './child-ipc';
import { formatSummary, summarise, type CpuProfile } from './cpuprofile-top';
import { JOBS, USERS } from './api-seed';
import { admin, dbUrl, fmt, median } from './queue-common';
import { FLOOR_PATH } from './api-floor';
import { addQuotas, QUOTAS, removeQuotas } from './api-quotas';
import { BENCH_LIMITS_ENV, benchRateLimits } from './api-rate-limits';

const ROOT = path.join(__dirname, '..');
const DB_NAME = `test_bench_api_${process.pid}`;

type Db = 'postgres' | 'pglite';
type RouteId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';

function parseArgs(argv: string[]) {
  const flags = new Map<string, string | true>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg} (see the comment at the top of bench/api.ts)`);
    flags.set(m[1], m[2] ?? true);
  }
  const short = flags.has('short');
  const num = (name: string, dflt: number) => (typeof flags.get(name) === 'string' ? Number(flags.get(name)) : dflt);
  const db = flags.get('db') ?? 'both';
  const prof = flags.get('cpu-prof');
  return {
    seconds: num('seconds', short ? 3 : 10),
    warmup: num('warmup', short ? 1 : 2),
    idle: num('idle', short ? 5 : 30),
    connections: num('connections', 50),
    dbs: (db === 'both' ? ['postgres', 'pglite'] : [db]) as Db[],
    profileDir:
      prof === undefined
        ? null
        : typeof prof === 'string'
          ? path.resolve(prof)
          : fs.mkdtempSync(path.join(os.tmpdir(), 'st-bench-api-prof-')),
    build: !flags.has('no-build'),
    statements: flags.has('statements'),
    keep: flags.has('keep'),
    rateLimits: flags.has('rate-limits'),
    rounds: num('rounds', short ? 2 : 6),
  };
}
const opts = parseArgs(process.argv.slice(2));

interface Figures {
  rps: number;
  /** Median latency of one request at a time, and the SQL statements each runs. */
  aloneMs: number;
  statements: number;
  /** The server's CPU time (user + system, all threads) per answered request: what machine load does not blur. */
  cpuMs: number;
  p50: number;
  p99: number;
  /** Responses with a status other than the expected one, plus errors and timeouts. */
  bad: number;
  statuses: string;
}

interface DbResult {
  db: Db;
  bootSeconds: number;
  seedSeconds: number;
  routes: Record<RouteId, Figures>;
  rssBoot: number;
  rssIdle: number;
  rssAfter: number;
  /** Ten seconds later, still idle: growth that stays is not garbage waiting for a collection. */
  rssLater: number;
  logLines: number;
}

interface Route {
  id: RouteId;
  label: string;
  method: 'GET' | 'POST';
  path: string;
  status: number;
  body?: string;
  /** Runs before the route's warm-up (setting up what the route measures). */
  before?: () => Promise<void>;
}

const MB = 2 ** 20;
const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function build(): void {
  const t = performance.now();
  const nest = require.resolve('@nestjs/cli/bin/nest.js');
  const r = spawnSync(process.execPath, [nest, 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nest build failed:\n${r.stdout}\n${r.stderr}`);
  console.log(`nest build: ${fmt((performance.now() - t) / 1000)} s`);
}

/** The server's own files, transpiled beside the build: dist/bench/*.js, whose `../src/…` is the built app. */
const SERVER_FILES = ['api-server', 'api-protocol', 'api-floor', 'api-seed'];
function buildServer(): string {
  const out = path.join(ROOT, 'dist', 'bench');
  fs.mkdirSync(out, { recursive: true });
  for (const name of SERVER_FILES) {
    const source = fs.readFileSync(path.join(__dirname, `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: `${name}.ts`,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
    });
    fs.writeFileSync(path.join(out, `${name}.js`), outputText);
  }
  return path.join(out, 'api-server.js');
}

async function drive(
  base: string,
  key: string,
  route: Route,
  seconds: number,
): Promise<Omit<Figures, 'cpuMs' | 'aloneMs' | 'statements'> & { answered: number }> {
  const r = await autocannon({
    url: base + route.path,
    method: route.method,
    connections: opts.connections,
    duration: seconds,
    headers: { 'X-API-Key': key, ...(route.body ? { 'Content-Type': 'application/json' } : {}) },
    body: route.body,
    timeout: 30,
  });
  const statuses = Object.entries(r.statusCodeStats ?? {})
    .map(([code, s]) => `${code}×${s.count}`)
    .join(' ');
  const expected = r.statusCodeStats?.[String(route.status)]?.count ?? 0;
  const answered = Object.values(r.statusCodeStats ?? {}).reduce((n, s) => n + s.count, 0);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    bad: answered - expected + r.errors + r.timeouts,
    statuses,
    answered,
  };
}

const TRACED = 20;

/** TRACED requests one at a time, with the statements they run: the route's cost without contention. */
async function alone(
  base: string,
  key: string,
  route: Route,
  ask: <T extends FromServer>(msg: ToServer, reply: T['kind']) => Promise<T>,
): Promise<{ aloneMs: number; statements: TracedStatement[] }> {
  await ask({ kind: 'trace-start' }, 'tracing');
  const times: number[] = [];
  for (let i = 0; i < TRACED; i++) {
    const t = performance.now();
    const res = await fetch(base + route.path, {
      method: route.method,
      headers: {
        'X-API-Key': key,
        'X-Correlation-ID': `${TRACE_ID_PREFIX}${i}`,
        ...(route.body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: route.body,
    });
    await res.arrayBuffer();
    times.push(performance.now() - t);
  }
  const { statements } = await ask<Extract<FromServer, { kind: 'traced' }>>({ kind: 'trace-stop' }, 'traced');
  return { aloneMs: median(times), statements };
}

/**
 * Requests still queued in the server when autocannon stops (it drops its connections, the server still serves
 * them) must not run in the next window: wait for a request that queues behind them for the database, then a beat.
 */
async function settle(base: string, key: string): Promise<void> {
  await fetch(`${base}/api/cloud/jobs?limit=1`, { headers: { 'X-API-Key': key } }).then((r) => r.arrayBuffer());
  await new Promise((r) => setTimeout(r, 500));
}

/** (e) submit with five applicable quotas, (f) the plain submit again once they are removed. */
function quotaRoutes(base: string, adminKey: string, userKey: string): Route[] {
  let ids: string[] = [];
  const body = JSON.stringify({ config_name: 'bench', config: { max_steps: 10 }, provider: 'simulator' });
  const route = { method: 'POST', path: '/api/cloud/jobs/submit', status: 201, body } as const;
  return [
    {
      id: 'e',
      label: `(e) submit, ${QUOTAS.length} quotas apply`,
      ...route,
      before: async () => void (ids = await addQuotas(base, adminKey, userKey)),
    },
    { id: 'f', label: '(c′) submit again, no quota', ...route, before: () => removeQuotas(base, adminKey, ids) },
  ];
}

async function benchOne(db: Db, serverJs: string): Promise<DbResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `st-bench-api-${db}-`));
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'st-bench-api-cwd-'));
  const logFile = path.join(dataDir, 'app.log');
  if (db === 'postgres') {
    await admin(`CREATE DATABASE ${DB_NAME}`);
  }
  // As a user runs it: configured by its environment only (no .env or enterprise file from the checkout).
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    HOST: '127.0.0.1',
    SIMPLETUNER_DATA_DIR: dataDir,
    SIMPLETUNER_LOG_FORMAT: 'json',
    SIMPLETUNER_LOG_LEVEL: 'INFO',
    SIMPLETUNER_LOG_FILE: logFile,
    SIMPLETUNER_QUEUE_INTERVAL: '3600',
    SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
    ...BENCH_LIMITS_ENV,
    ...(db === 'postgres' ? { DATABASE_URL: dbUrl(DB_NAME) } : {}),
  };
  const bootStart = performance.now();
  // Plain node, no flags of ours. stdout (the same JSON lines as the file) goes to /dev/null; stderr stays visible.
  const server = fork(serverJs, [], { cwd, env, execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ask = <T extends FromServer>(msg: ToServer, reply: T['kind'], timeoutMs?: number) => {
    server.send(msg);
    return nextMessage<T>(server, reply, timeoutMs);
  };
  const memory = async (label: string, gc = false) => {
    const m = await ask<Extract<FromServer, { kind: 'rss' }>>({ kind: 'rss', gc }, 'rss');
    console.log(
      `${label}: RSS ${fmt(m.rss / MB, 0)} MB (V8 heap ${fmt(m.heapTotal / MB, 0)} MB of which ${fmt(m.heapUsed / MB, 0)} ` +
        `MB used; outside it ${fmt(m.external / MB, 0)} MB)`,
    );
    return m.rss;
  };
  try {
    const ready = await nextMessage<Extract<FromServer, { kind: 'ready' }>>(server, 'ready', 300_000);
    const bootSeconds = (performance.now() - bootStart) / 1000;
    const idleUntil = performance.now() + opts.idle * 1000;
    console.log(
      `\n${db === 'postgres' ? `PostgreSQL (${DB_NAME})` : `PGlite (${dataDir})`}: ready in ${fmt(bootSeconds)} s ` +
        `(createApp ${fmt(ready.bootMs / 1000)} s), RSS ${fmt(ready.rss / MB, 0)} MB; idle ${opts.idle} s…`,
    );
    await new Promise((r) => setTimeout(r, Math.max(0, idleUntil - performance.now())));
    const rssIdle = await memory(`idle, ${opts.idle} s after boot`);
    const seeded = await ask<Extract<FromServer, { kind: 'seeded' }>>({ kind: 'seed' }, 'seeded', 300_000);
    console.log(
      `seeded ${fmt(seeded.jobs, 0)} jobs across ${USERS} users (${fmt(seeded.pendingEntries, 0)} pending) in ` +
        `${fmt(seeded.seconds)} s`,
    );

    const submitBody = JSON.stringify({ config_name: 'bench', config: { max_steps: 10 }, provider: 'simulator' });
    const routes: Route[] = [
      { id: 'a', label: `(a) floor GET ${FLOOR_PATH}`, method: 'GET', path: FLOOR_PATH, status: 200 },
      {
        id: 'b',
        label: '(b) GET /api/cloud/jobs?limit=20',
        method: 'GET',
        path: '/api/cloud/jobs?limit=20',
        status: 200,
      },
      {
        id: 'd',
        label: '(d) GET /api/queue/position/:id',
        method: 'GET',
        path: `/api/queue/position/${seeded.pendingJobId}`,
        status: 200,
      },
      // Last: every submission adds a pending entry, which the others would then count.
      {
        id: 'c',
        label: '(c) POST /api/cloud/jobs/submit',
        method: 'POST',
        path: '/api/cloud/jobs/submit',
        status: 201,
        body: submitBody,
      },
      ...quotaRoutes(ready.url, fs.readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim(), seeded.key),
    ];
    // The bench user's submissions must go straight to the queue.
    const probe = await fetch(`${ready.url}/api/cloud/jobs/submit`, {
      method: 'POST',
      headers: { 'X-API-Key': seeded.key, 'Content-Type': 'application/json' },
      body: submitBody,
    });
    const probed = (await probe.json()) as { requires_approval?: boolean };
    if (probe.status !== 201 || probed.requires_approval !== false)
      throw new Error(`a probe submission answered ${probe.status} ${JSON.stringify(probed)}: approvals must be off`);

    const figures = {} as Record<RouteId, Figures>;
    const cpu = () => ask<Extract<FromServer, { kind: 'cpu' }>>({ kind: 'cpu' }, 'cpu');
    for (const route of routes) {
      await route.before?.();
      if (opts.warmup > 0) {
        await drive(ready.url, seeded.key, route, opts.warmup);
        await settle(ready.url, seeded.key);
      }
      if (opts.profileDir) await ask({ kind: 'profile-start' }, 'profiling');
      const cpu0 = await cpu();
      const { answered, ...f } = await drive(ready.url, seeded.key, route, opts.seconds);
      await settle(ready.url, seeded.key);
      const cpu1 = await cpu();
      // The window's CPU includes serving the requests left in flight at its end: all answered-or-dropped ones.
      const cpuMs = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / 1000 / Math.max(1, answered);
      const traced = await alone(ready.url, seeded.key, route, ask);
      const statements = traced.statements.reduce((n, st) => n + st.count, 0) / TRACED;
      figures[route.id] = { ...f, cpuMs, aloneMs: traced.aloneMs, statements };
      console.log(
        `${route.label.padEnd(36)} ${fmt(f.rps, 0).padStart(7)} req/s   p50 ${fmt(f.p50, 0).padStart(5)} ms   ` +
          `p99 ${fmt(f.p99, 0).padStart(5)} ms   server CPU ${fmt(cpuMs, 2)} ms/req   alone ${fmt(traced.aloneMs, 1)} ms, ` +
          `${fmt(statements, 1)} statements` +
          (f.bad ? `   UNEXPECTED: ${f.statuses}` : ''),
      );
      if (opts.statements) {
        for (const st of traced.statements.sort((x, y) => y.totalMs - x.totalMs))
          console.log(
            `    ${fmt(st.count / TRACED, 1).padStart(4)}× ${fmt(st.totalMs / st.count, 2).padStart(6)} ms  ${st.sql.slice(0, 150)}`,
          );
      }
      if (opts.profileDir) {
        const file = path.join(opts.profileDir, `${db}-${route.id}.cpuprofile`);
        await ask({ kind: 'profile-stop', file }, 'profiled');
        const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
        console.log(`  ${file}\n${formatSummary(summarise(profile, 12), 12, 8).replace(/^/gm, '  ')}`);
      }
    }
    await new Promise((r) => setTimeout(r, 2000));
    const rssAfter = await memory('2 s after the run');
    await new Promise((r) => setTimeout(r, 10_000));
    const rssLater = await memory('12 s after the run');
    await memory('then after full collections', true);
    await ask({ kind: 'stop' }, 'stopped', 60_000);
    const logLines = fs.readFileSync(logFile, 'utf8').split('\n').length - 1;
    return {
      db,
      bootSeconds,
      seedSeconds: seeded.seconds,
      routes: figures,
      rssBoot: ready.rss,
      rssIdle,
      rssAfter,
      rssLater,
      logLines,
    };
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    if (!opts.keep) {
      if (db === 'postgres') await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
      fs.rmSync(dataDir, { recursive: true, force: true });
    } else console.log(`kept ${db === 'postgres' ? `database ${DB_NAME} and ` : ''}${dataDir}`);
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

/** Throughput targets: a route's req/s at least this share of the floor's. */
const TARGETS: Record<Db, Partial<Record<'b' | 'c' | 'd', number>>> = {
  postgres: { b: 0.5, c: 0.25, d: 0.5 },
  pglite: { b: 0.3 },
};
/**
 * Server CPU targets: a route's CPU per request at most this multiple of the floor's (on PostgreSQL, where the
 * database's own CPU is not the server's; on PGlite it is, so they do not apply there).
 */
const CPU_TARGETS: Record<Db, Partial<Record<'b' | 'c' | 'd', number>>> = {
  postgres: { b: 2, c: 4 },
  pglite: {},
};
const RSS_GROWTH_TARGET = 1.5;
const QUOTA_SUBMIT_TARGET = 0.8;
const PGLITE_IDLE_TARGET_MB = 300;

function report(results: DbResult[]): void {
  const name = (db: Db) => (db === 'postgres' ? 'PostgreSQL' : 'PGlite');
  console.log(
    `\nbench:api summary — ${opts.connections} connections, ${opts.seconds} s per route after ${opts.warmup} s of ` +
      `warm-up; ${JOBS.toLocaleString('en-US')} jobs, ${USERS} users; ${os.cpus().length} CPUs, load at the end ${loadavg()}`,
  );
  console.log(
    '| database | route | req/s | p50 | p99 | ratio to (a) | target | server CPU/req | CPU to (a) | target | alone | ' +
      'statements |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const missed: string[] = [];
  for (const r of results) {
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f'] as const) {
      const f = r.routes[id];
      const ratio = f.rps / r.routes.a.rps;
      const cpuRatio = f.cpuMs / r.routes.a.cpuMs;
      const skip = id === 'a' || id === 'e' || id === 'f';
      const target = skip ? undefined : TARGETS[r.db][id];
      const cpuTarget = skip ? undefined : CPU_TARGETS[r.db][id];
      const verdict = target === undefined ? '' : `≥ ${target} ${ratio >= target ? 'met' : '**not met**'}`;
      const cpuVerdict =
        cpuTarget === undefined ? '' : `≤ ${cpuTarget}× ${cpuRatio <= cpuTarget ? 'met' : '**not met**'}`;
      if (target !== undefined && ratio < target) missed.push(`${name(r.db)} ${id}/a ${ratio.toFixed(2)} < ${target}`);
      if (cpuTarget !== undefined && cpuRatio > cpuTarget)
        missed.push(`${name(r.db)} ${id}/a server CPU ${cpuRatio.toFixed(2)}× > ${cpuTarget}×`);
      console.log(
        `| ${name(r.db)} | ${id} | ${fmt(f.rps, 0)} | ${fmt(f.p50, 0)} ms | ${fmt(f.p99, 0)} ms | ` +
          `${id === 'a' ? '' : ratio.toFixed(2)} | ${verdict} | ${fmt(f.cpuMs, 2)} ms | ` +
          `${id === 'a' ? '' : `${cpuRatio.toFixed(2)}×`} | ${cpuVerdict} | ${fmt(f.aloneMs, 1)} ms | ` +
          `${fmt(f.statements, 1)} |`,
      );
    }
  }
  for (const r of results) {
    // Quotas cost the submit a transaction and two statements: (e) against the mean of the submits around it.
    const plain = (r.routes.c.rps + r.routes.f.rps) / 2;
    const ratio = r.routes.e.rps / plain;
    const verdict = ratio >= QUOTA_SUBMIT_TARGET ? 'met' : '**not met**';
    if (ratio < QUOTA_SUBMIT_TARGET) missed.push(`${name(r.db)} e/c ${ratio.toFixed(2)} < ${QUOTA_SUBMIT_TARGET}`);
    console.log(
      `\n${name(r.db)}: submit with ${QUOTAS.length} quotas ${fmt(r.routes.e.rps, 0)} req/s against ${fmt(plain, 0)} ` +
        `without (mean of (c) and (c′)): ${ratio.toFixed(2)}× (target ≥ ${QUOTA_SUBMIT_TARGET}: ${verdict})`,
    );
  }
  console.log('\n| database | boot | RSS after boot | idle RSS | RSS after the run | after / boot | 10 s later |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const growth = r.rssAfter / r.rssBoot;
    if (growth > RSS_GROWTH_TARGET)
      missed.push(`${name(r.db)} RSS after/boot ${growth.toFixed(2)} > ${RSS_GROWTH_TARGET}`);
    const idleMb = r.rssIdle / MB;
    if (r.db === 'pglite' && idleMb >= PGLITE_IDLE_TARGET_MB)
      missed.push(`PGlite idle RSS ${fmt(idleMb, 0)} MB ≥ ${PGLITE_IDLE_TARGET_MB} MB`);
    console.log(
      `| ${name(r.db)} | ${fmt(r.bootSeconds)} s | ${fmt(r.rssBoot / MB, 0)} MB | ${fmt(idleMb, 0)} MB (${opts.idle} s) | ` +
        `${fmt(r.rssAfter / MB, 0)} MB | ${growth.toFixed(2)}× (target ≤ ${RSS_GROWTH_TARGET}) | ` +
        `${fmt(r.rssLater / MB, 0)} MB |`,
    );
  }
  for (const r of results) {
    const total = Object.values(r.routes).reduce((n, f) => n + f.rps * opts.seconds, 0);
    console.log(
      `${name(r.db)}: ${fmt(r.logLines, 0)} JSON log lines written (about ${fmt(total, 0)} requests measured)`,
    );
  }
  console.log(missed.length ? `targets not met: ${missed.join('; ')}` : 'every target met');
}

async function main(): Promise<void> {
  console.log(
    `bench:api — ${opts.connections} connections, ${opts.seconds} s per route, node ${process.version}, ` +
      `${os.cpus().length} CPUs, load ${loadavg()}`,
  );
  if (opts.build) build();
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'app.factory.js')))
    throw new Error('dist/ has no build: run without --no-build');
  if (opts.profileDir) {
    fs.mkdirSync(opts.profileDir, { recursive: true });
    console.log(
      `CPU profiles (sampling adds overhead: figures of a profiled run are not the reference ones) in ${opts.profileDir}`,
    );
  }
  const serverJs = buildServer();
  if (opts.rateLimits) return benchRateLimits(serverJs, opts);
  const results: DbResult[] = [];
  for (const db of opts.dbs) results.push(await benchOne(db, serverJs));
  report(results);
  const bad = results.flatMap((r) =>
    Object.entries(r.routes)
      .filter(([, f]) => f.bad > 0)
      .map(([id]) => `${r.db} ${id}`),
  );
  if (bad.length) {
    console.log(`unexpected statuses or errors on: ${bad.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
