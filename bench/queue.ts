/**
 * npm run bench:queue — queue tick time and dispatch throughput, against pg-boss carrying the same contract.
 *
 * On the local PostgreSQL (a dedicated database whose name contains "test"), with an instant fake provider, for
 * 1,000 / 10,000 / 100,000 pending entries across 1,000 users in 50 orgs (limits: global 100, user 2, org 10):
 *   - ours: ticks that each dispatch 100 jobs, each batch then completed through the transition function so the
 *     slots free up (dispatch-only rate, and the lifecycle rate counting the completions too);
 *   - pg-boss 10 as the queue under the same contract (bench/queue-boss-contract.ts): the claim under the same limits
 *     in a transaction under an advisory lock, the job rows read for the provider, the same outcome recorded;
 * one of theirs after each of ours, at a constant depth (what a round dispatched goes back into the queue outside
 * the timing), so both see the same load on a shared machine; the 1-minute load average is printed with each size.
 * Also raw pg-boss (fetch and complete only) and the bare-SQL floor of our writes (see benchFloor), which show how
 * much of the gap is the contract's own work rather than the service's. Prints the figures and the ratios.
 *
 * Options (environment): BENCH_SIZES=1000,10000; BENCH_ROUNDS (default 20); BENCH_VERBOSE=1 (each tick and round
 * with its time and this process's CPU); BENCH_STATEMENTS=1 (the SQL one tick runs); BENCH_CPU_PROF=dir (a CPU
 * profile of 50 ticks per size, for bench/cpuprofile-top.ts; with BENCH_HEAP_PROF=1 their allocations too);
 * BENCH_INDEX_STATS=1 (scans per index of queue_entries, jobs and events at the end: which indexes the run used).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { createApp, RunningApp } from '../src/app.factory';
import { loadAppConfig } from '../src/config';
import { JobTransitionService } from '../src/jobs/job-transition.service';
import { ProviderRegistry } from '../src/providers/provider-registry';
import { QueueLimitsService } from '../src/queue/queue-limits.service';
import { QueueService } from '../src/queue/queue.service';
import { benchBoss, benchFloor } from './queue-baselines';
import { BossContract } from './queue-boss-contract';
import { CpuMeter } from './queue-cpu';
import { runOurs } from './queue-ours';
import {
  admin,
  DB_NAME,
  dbUrl,
  fmt,
  InstantProvider,
  LIMITS,
  ORGS,
  Row,
  seedMembers,
  seedQueue,
  SIZES,
  USERS,
} from './queue-common';

/**
 * Ours and pg-boss under the same contract, round for round: after each of our ticks (and the completions that free
 * its slots) pg-boss makes one dispatch round on its own n jobs, so the two see the same load on this shared machine.
 */
async function benchOurs(
  running: RunningApp,
  n: number,
  meter: CpuMeter,
): Promise<Pick<Row, 'tickMs' | 'dispatchOnlyPerSec' | 'sustainedPerSec' | 'bossContractPerSec' | 'bossHandedBack'>> {
  const db = running.app.get<DataSource>(getDataSourceToken());
  const queue = running.app.get(QueueService);
  const transitions = running.app.get(JobTransitionService);
  await seedQueue(db, n, n);
  const boss = await BossContract.start(n);
  try {
    const ours = await runOurs(db, queue, transitions, n, meter, (measured) => boss.round(measured, meter));
    return { ...ours, bossContractPerSec: boss.perSec(), bossHandedBack: boss.handedBack };
  } finally {
    await boss.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  if (!DB_NAME.includes('test')) throw new Error('the bench database name must contain "test"');
  await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${DB_NAME}`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-bench-queue-'));
  const config = loadAppConfig(
    {
      DATABASE_URL: dbUrl(DB_NAME),
      SIMPLETUNER_DATA_DIR: dataDir,
      SIMPLETUNER_LOG_LEVEL: 'ERROR',
      SIMPLETUNER_ENTERPRISE_CONFIG: '',
      SIMPLETUNER_ADMIN_API_KEY: `st_${randomBytes(16).toString('hex')}`,
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'false',
      SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
      DB_POOL_SIZE: '10',
    },
    dataDir,
  );
  const running = await createApp(config, { port: 0 });
  const rows: Row[] = [];
  try {
    running.app.get(ProviderRegistry).register(new InstantProvider());
    const db = running.app.get<DataSource>(getDataSourceToken());
    await seedMembers(db);
    await running.app
      .get(QueueLimitsService)
      .update(LIMITS, { id: randomUUID(), username: 'bench', orgId: randomUUID() });
    for (const size of SIZES) {
      const loadBefore = os.loadavg()[0];
      const meter = new CpuMeter(db);
      const ours = await benchOurs(running, size, meter);
      const load: [number, number] = [loadBefore, os.loadavg()[0]];
      const floorPerSec = await benchFloor(db, size, meter);
      const boss = await benchBoss(size);
      const cpu = meter.report();
      rows.push({ size, ...ours, floorPerSec, ...boss, load, cpu });
      console.log(
        `${fmt(size, 0).padStart(7)} entries (load average ${fmt(load[0], 2)} → ${fmt(load[1], 2)}): ` +
          `tick(100) ${fmt(ours.tickMs)} ms, sustained ${fmt(ours.sustainedPerSec, 0)}/s ` +
          `(dispatch only ${fmt(ours.dispatchOnlyPerSec, 0)}/s) | pg-boss fetch(100) ${fmt(boss.bossFetchMs)} ms, ` +
          `fetch+complete ${fmt(boss.bossPerSec, 0)}/s, under our contract ${fmt(ours.bossContractPerSec, 0)}/s ` +
          `(${ours.bossHandedBack} fetched over a limit and handed back), ` +
          `send ${fmt(boss.bossSendPerSec, 0)}/s | bare-SQL floor of our writes ${fmt(floorPerSec, 0)}/s`,
      );
      console.log(`          CPU per 100 dispatched: ${cpu}`);
    }
    if (process.env.BENCH_INDEX_STATS) await printIndexScans(running.app.get<DataSource>(getDataSourceToken()));
  } finally {
    await running.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  }

  report(rows);
  console.log(`Took ${fmt((Date.now() - started) / 1000, 0)} s.`);
}

/** BENCH_INDEX_STATS=1: how often each index of the queue's tables was read during the run. */
async function printIndexScans(db: DataSource): Promise<void> {
  const rows: { table: string; index: string; scans: string; read: string }[] = await db.query(
    `SELECT relname AS table, indexrelname AS index, idx_scan AS scans, idx_tup_read AS read FROM pg_stat_user_indexes
      WHERE relname IN ('queue_entries', 'jobs', 'events') ORDER BY relname, indexrelname`,
  );
  console.log('Index scans during the run (index: scans, entries read):');
  for (const r of rows) console.log(`  ${r.index}: ${r.scans}, ${r.read}`);
}

/** The table and the targets. */
function report(rows: Row[]): void {
  const first = rows[0];
  const last = rows[rows.length - 1];
  const tickRatio = last.tickMs / first.tickMs;
  console.log('');
  console.log(
    `Queue bench (limits global ${LIMITS.max_concurrent}, user ${LIMITS.user_max_concurrent}, org ${LIMITS.org_max_concurrent}; ${USERS} users in ${ORGS} orgs; instant provider)`,
  );
  console.log(
    'entries   | load avg (1 min) | tick 100 (ms) | ours dispatch-only/s | ours lifecycle/s | lifecycle/dispatch | pg-boss + contract/s | ours/that | raw pg-boss fetch+complete/s | ours/raw | bare-SQL floor/s',
  );
  for (const r of rows) {
    console.log(
      [
        fmt(r.size, 0).padEnd(9),
        `${fmt(r.load[0], 2)} → ${fmt(r.load[1], 2)}`.padStart(16),
        fmt(r.tickMs).padStart(13),
        fmt(r.dispatchOnlyPerSec, 0).padStart(20),
        fmt(r.sustainedPerSec, 0).padStart(16),
        fmt(r.sustainedPerSec / r.dispatchOnlyPerSec, 2).padStart(18),
        fmt(r.bossContractPerSec, 0).padStart(20),
        fmt(r.dispatchOnlyPerSec / r.bossContractPerSec, 2).padStart(9),
        fmt(r.bossPerSec, 0).padStart(28),
        fmt(r.dispatchOnlyPerSec / r.bossPerSec, 2).padStart(8),
        fmt(r.floorPerSec, 0).padStart(16),
      ].join(' | '),
    );
  }
  console.log('');
  const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
  console.log(
    `Target 1: tick at ${fmt(last.size, 0)} / tick at ${fmt(first.size, 0)} = ${fmt(tickRatio, 2)} (≤ 2.00): ${verdict(tickRatio <= 2)}`,
  );
  const lifecycle = Math.min(...rows.map((r) => r.sustainedPerSec / r.dispatchOnlyPerSec));
  console.log(
    `Target 2: lifecycle (dispatch + completion as polling completes) ≥ 0.5 × dispatch-only at every size: worst ${fmt(lifecycle, 2)}: ${verdict(lifecycle >= 0.5)}`,
  );
  const fair = Math.min(...rows.map((r) => r.dispatchOnlyPerSec / r.bossContractPerSec));
  console.log(
    `Target 3: ours (limits on) ≥ pg-boss used as the queue under the same contract at every size: worst ${fmt(fair, 2)}: ${verdict(fair >= 1)}`,
  );
  const raw = Math.min(...rows.map((r) => r.dispatchOnlyPerSec / r.bossPerSec));
  console.log(
    `(raw pg-boss fetch+complete does one row update per job and no job rows, events or limits: worst ratio ${fmt(raw, 2)})`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
