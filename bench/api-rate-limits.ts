/**
 * `npm run bench:api -- --rate-limits`: what the inbound rate limits cost the list route. Two servers of the
 * production build on one PostgreSQL database (seeded once): one with every limit off (0), one with them on at
 * limits no run reaches (each request still counted). Rounds of GET /api/cloud/jobs?limit=20 alternate between
 * them, so load on the machine falls on both alike; prints the median req/s of each and their ratio (target: with
 * limits ≥ 0.95× without), and the server's CPU time per request (what machine load blurs least).
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import autocannon from 'autocannon';
import type { FromServer, ToServer } from './api-protocol';
import { nextMessage } from './child-ipc';
import { admin, dbUrl, fmt, median } from './queue-common';

const DB_NAME = `test_bench_limits_${process.pid}`;
const TARGET = 0.95;
const LIST = '/api/cloud/jobs?limit=20';

/** Limits at production-like settings but far above what a bench run sends: counted, never refused. */
const ON = String(1_000_000_000);
const limitsEnv = (value: string) => ({
  SIMPLETUNER_RATE_LIMIT_PER_MINUTE: value,
  SIMPLETUNER_RATE_LIMIT_SUBMIT_PER_MINUTE: value,
  SIMPLETUNER_RATE_LIMIT_UPLOADS_PER_MINUTE: value,
  SIMPLETUNER_RATE_LIMIT_WEBHOOKS_PER_MINUTE: value,
});
/** What bench:api's other modes run with: the limits on, too high to refuse its load. */
export const BENCH_LIMITS_ENV = limitsEnv(ON);

interface Server {
  url: string;
  ask<T extends FromServer>(msg: ToServer, reply: T['kind'], timeoutMs?: number): Promise<T>;
  kill(): void;
}

async function startServer(serverJs: string, limits: string): Promise<Server> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-bench-limits-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    HOST: '127.0.0.1',
    SIMPLETUNER_DATA_DIR: dataDir,
    SIMPLETUNER_LOG_LEVEL: 'WARNING',
    SIMPLETUNER_QUEUE_INTERVAL: '3600',
    SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
    DATABASE_URL: dbUrl(DB_NAME),
    ...limitsEnv(limits),
  };
  const child = fork(serverJs, [], { cwd: dataDir, env, execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = await nextMessage<Extract<FromServer, { kind: 'ready' }>>(child, 'ready', 300_000);
  return {
    url: ready.url,
    ask: (msg, reply, timeoutMs) => {
      child.send(msg);
      return nextMessage(child, reply, timeoutMs);
    },
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** req/s of one window, and the server's CPU (user + system) per answered request in it, ms. */
async function drive(
  server: Server,
  key: string,
  seconds: number,
  connections: number,
): Promise<{ rps: number; cpuMs: number }> {
  const cpu = () => server.ask<Extract<FromServer, { kind: 'cpu' }>>({ kind: 'cpu' }, 'cpu');
  const before = await cpu();
  const r = await autocannon({ url: server.url + LIST, connections, duration: seconds, headers: { 'X-API-Key': key } });
  const after = await cpu();
  const ok = r.statusCodeStats?.['200']?.count ?? 0;
  const answered = Object.values(r.statusCodeStats ?? {}).reduce((n, s) => n + s.count, 0);
  if (ok !== answered || r.errors > 0) throw new Error(`unexpected answers: ${JSON.stringify(r.statusCodeStats)}`);
  const cpuMs = (after.user + after.system - before.user - before.system) / 1000 / Math.max(1, answered);
  return { rps: r.requests.average, cpuMs };
}

export async function benchRateLimits(
  serverJs: string,
  opts: { seconds: number; warmup: number; connections: number; rounds: number },
): Promise<void> {
  await admin(`CREATE DATABASE ${DB_NAME}`);
  const servers: Server[] = [];
  try {
    const off = await startServer(serverJs, '0');
    servers.push(off);
    // The first server migrates the database; the second boots on it.
    const on = await startServer(serverJs, ON);
    servers.push(on);
    const seeded = await off.ask<Extract<FromServer, { kind: 'seeded' }>>({ kind: 'seed' }, 'seeded', 300_000);
    for (const s of servers) await drive(s, seeded.key, opts.warmup, opts.connections);
    const rps: Record<'off' | 'on', number[]> = { off: [], on: [] };
    const cpu: Record<'off' | 'on', number[]> = { off: [], on: [] };
    for (let round = 0; round < opts.rounds; round++) {
      // Alternate which goes first, so neither always follows the other's leftovers.
      const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      for (const which of order) {
        const f = await drive(which === 'on' ? on : off, seeded.key, opts.seconds, opts.connections);
        rps[which].push(f.rps);
        cpu[which].push(f.cpuMs);
      }
      console.log(
        `round ${round + 1}: off ${fmt(rps.off.at(-1)!, 0)} req/s (${fmt(cpu.off.at(-1)!, 2)} ms CPU/req), ` +
          `on ${fmt(rps.on.at(-1)!, 0)} req/s (${fmt(cpu.on.at(-1)!, 2)} ms CPU/req)`,
      );
    }
    const ratio = median(rps.on) / median(rps.off);
    const cpuRatio = median(cpu.off) / median(cpu.on);
    console.log(
      `\nrate limits, GET ${LIST} (PostgreSQL, ${opts.connections} connections, ${opts.rounds} rounds of ` +
        `${opts.seconds} s each, load ${os.loadavg()[0].toFixed(2)}): off ${fmt(median(rps.off), 0)} req/s, on ` +
        `${fmt(median(rps.on), 0)} req/s (medians); on/off ${ratio.toFixed(3)} (target ≥ ${TARGET}: ` +
        `${ratio >= TARGET ? 'met' : '**not met**'}); server CPU per request off ${fmt(median(cpu.off), 2)} ms, ` +
        `on ${fmt(median(cpu.on), 2)} ms: as throughput, off/on ${cpuRatio.toFixed(3)}`,
    );
    for (const s of servers) await s.ask({ kind: 'stop' }, 'stopped', 60_000);
  } finally {
    for (const s of servers) s.kill();
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  }
}
