/**
 * npm run bench:queue — queue tick time and dispatch throughput, against pg-boss.
 *
 * On the local PostgreSQL (a dedicated database whose name contains "test"), with an instant fake provider, for
 * 1,000 / 10,000 / 100,000 pending entries across 1,000 users in 50 orgs:
 *   - the duration of one tick that dispatches 100 jobs (limits: global 100, user 2, org 10);
 *   - sustained dispatches per second with the limits on: 500 dispatches in ticks of 100, each batch then
 *     completed through the transition function so the slots free up (reported with and without that time);
 * and, in the same run and database, pg-boss 10 sending, fetching and completing the same number of jobs as the
 * baseline. Also the bare-SQL floor of our per-dispatch writes (see benchFloor), which shows how much of the gap
 * to pg-boss is the contract's own work rather than the service's. Prints the figures and the ratios.
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
import {
  admin,
  BATCH,
  DB_NAME,
  dbUrl,
  fmt,
  InstantProvider,
  LIMITS,
  median,
  ms,
  ORGS,
  Row,
  seedMembers,
  seedQueue,
  SIZES,
  SUSTAINED,
  TICK_SAMPLES,
  USERS,
} from './queue-common';

/**
 * Frees every slot the way polling does: the jobs complete through the transition function in batches of 25
 * (one transaction, one batched transition and one batched slot release each), two batches at a time.
 */
async function completeRunning(db: DataSource, transitions: JobTransitionService): Promise<void> {
  const running: { job_id: string }[] = await db.query(`SELECT job_id FROM queue_entries WHERE status = 'running'`);
  const batches: string[][] = [];
  for (let i = 0; i < running.length; i += 25) batches.push(running.slice(i, i + 25).map((r) => r.job_id));
  for (let i = 0; i < batches.length; i += 2) {
    await Promise.all(
      batches.slice(i, i + 2).map((ids) =>
        transitions.transitionMany(
          ids.map((jobId) => ({ jobId, to: 'completed' as const })),
          { source: 'bench.poll' },
        ),
      ),
    );
  }
}

async function benchOurs(
  running: RunningApp,
  n: number,
): Promise<Pick<Row, 'tickMs' | 'dispatchOnlyPerSec' | 'sustainedPerSec'>> {
  const db = running.app.get<DataSource>(getDataSourceToken());
  const queue = running.app.get(QueueService);
  const transitions = running.app.get(JobTransitionService);
  await seedQueue(db, n);

  const tick = async () => {
    const t = process.hrtime.bigint();
    const s = await queue.processTick(new Date());
    const took = ms(t);
    if (process.env.BENCH_VERBOSE)
      console.log(`  tick: claim ${fmt(s.claim_ms)} ms, submit+record ${fmt(s.dispatch_ms)} ms`);
    if (s.dispatched !== BATCH) throw new Error(`a tick dispatched ${s.dispatched}, expected ${BATCH}`);
    return took;
  };
  const explain = async (label: string) => {
    if (!process.env.BENCH_VERBOSE) return;
    const plan: { 'QUERY PLAN': string }[] = await db.query(
      `EXPLAIN (ANALYZE, BUFFERS) SELECT c.job_id FROM users u CROSS JOIN LATERAL (
         SELECT q.job_id, q.effective_priority, q.queued_at FROM queue_entries q WHERE q.user_id = u.id AND q.status = 'pending'
           AND (q.not_before IS NULL OR q.not_before <= $1) AND q.org_id <> ALL($2::uuid[])
         ORDER BY q.effective_priority DESC, q.queued_at, q.job_id LIMIT 2) c WHERE u.id <> ALL($2::uuid[])
         ORDER BY c.effective_priority DESC, c.queued_at, c.job_id LIMIT 300`,
      [new Date(), []],
    );
    console.log(
      `per-user candidate read (the claim's fallback path), ${label}:\n` + plan.map((r) => r['QUERY PLAN']).join('\n'),
    );
  };
  await explain('before');
  await tick(); // warm-up
  await completeRunning(db, transitions);
  const ticks: number[] = [];
  for (let i = 0; i < TICK_SAMPLES; i++) {
    ticks.push(await tick());
    await completeRunning(db, transitions);
  }
  let tickTotal = 0;
  const start = process.hrtime.bigint();
  for (let done = 0; done < SUSTAINED; done += BATCH) {
    tickTotal += await tick();
    await completeRunning(db, transitions);
  }
  const wall = ms(start);
  await explain('after');
  return {
    tickMs: median(ticks),
    dispatchOnlyPerSec: (SUSTAINED / tickTotal) * 1000,
    sustainedPerSec: (SUSTAINED / wall) * 1000,
  };
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
      const ours = await benchOurs(running, size);
      const floorPerSec = await benchFloor(running.app.get<DataSource>(getDataSourceToken()), size);
      const boss = await benchBoss(size);
      rows.push({ size, ...ours, floorPerSec, ...boss });
      console.log(
        `${fmt(size, 0).padStart(7)} entries: tick(100) ${fmt(ours.tickMs)} ms, sustained ${fmt(ours.sustainedPerSec, 0)}/s ` +
          `(dispatch only ${fmt(ours.dispatchOnlyPerSec, 0)}/s) | pg-boss fetch(100) ${fmt(boss.bossFetchMs)} ms, ` +
          `fetch+complete ${fmt(boss.bossPerSec, 0)}/s, under our contract ${fmt(boss.bossContractPerSec, 0)}/s, ` +
          `send ${fmt(boss.bossSendPerSec, 0)}/s | bare-SQL floor of our writes ${fmt(floorPerSec, 0)}/s`,
      );
    }
  } finally {
    await running.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  }

  const first = rows[0];
  const last = rows[rows.length - 1];
  const tickRatio = last.tickMs / first.tickMs;
  console.log('');
  console.log(
    `Queue bench (limits global ${LIMITS.max_concurrent}, user ${LIMITS.user_max_concurrent}, org ${LIMITS.org_max_concurrent}; ${USERS} users in ${ORGS} orgs; instant provider)`,
  );
  console.log(
    'entries   | tick 100 (ms) | ours dispatch-only/s | ours lifecycle/s | lifecycle/dispatch | pg-boss + contract/s | ours/that | raw pg-boss fetch+complete/s | ours/raw | bare-SQL floor/s',
  );
  for (const r of rows) {
    console.log(
      [
        fmt(r.size, 0).padEnd(9),
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
  console.log(`Took ${fmt((Date.now() - started) / 1000, 0)} s.`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
