/**
 * npm run bench:ops — job retention over 100,000 jobs on PostgreSQL, and what it costs concurrent submits.
 *
 * Starts the app in this process on a fresh database (test_bench_ops on TEST_DATABASE_URL's server, dropped at the
 * end) and seeds 100,000 jobs across 1,000 users in 50 orgs, each with its queue entry: 60 % finished more than 90
 * days ago (expired under the default SIMPLETUNER_JOB_RETENTION_DAYS), 30 % finished recently, 10 % still active
 * (pending or running, some created long ago). Then, in one run:
 *   1. SUBMITS submits over HTTP (CONCURRENCY at a time) with nothing else running: their p50/p99 latency;
 *   2. retention (JobRetentionService.purgeExpired, as its daily task runs it) while the same submits run again:
 *      its deletion rate, and the submits' p50/p99 while it ran, with the ratio to step 1 (target: p99 ≤ 2×).
 * Afterwards it checks that exactly the expired jobs went (and their entries) and every active job stayed.
 * Bulk cancel of 1,000 pending jobs is bench/bulk.ts, which `npm run bench:ops` runs after this.
 *
 * Env: TEST_DATABASE_URL (the server), BENCH_SUBMITS (600), BENCH_CONCURRENCY (4).
 */
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { JobRetentionService } from '../src/jobs/job-retention.service';
import { fmt } from './queue-common';
import { startBenchApp } from './bench-app';

const DB_NAME = 'test_bench_ops';
const JOBS = 100_000;
const USERS = 1_000;
const ORGS = 50;
const SUBMITS = Number(process.env.BENCH_SUBMITS ?? 600);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const TARGET_RATIO = 2;

/** i % 10: 0–5 expired (finished 91–400 days ago), 6–8 recent (finished 0–80 days ago), 9 active. */
async function seed(db: DataSource): Promise<void> {
  await db.query(`INSERT INTO orgs (name) SELECT 'ops-org-' || o FROM generate_series(0, ${ORGS - 1}) o`);
  await db.query(
    `INSERT INTO users (username, level, org_id)
     SELECT 'ops-user-' || u, 'researcher', (SELECT id FROM orgs WHERE name = 'ops-org-' || (u % ${ORGS}))
       FROM generate_series(0, ${USERS - 1}) u`,
  );
  await db.query(
    `WITH u AS (SELECT id, org_id, substr(username, 10)::int AS rn FROM users WHERE username LIKE 'ops-user-%'),
          s AS (SELECT i,
                       CASE WHEN i % 10 = 9 THEN (CASE WHEN i % 20 = 9 THEN 'pending' ELSE 'running' END)
                            ELSE (ARRAY['completed','failed','cancelled'])[i % 3 + 1] END AS status,
                       CASE WHEN i % 10 < 6 THEN now() - make_interval(days => 91 + i % 310)
                            WHEN i % 10 < 9 THEN now() - make_interval(days => i % 80)
                            ELSE now() - make_interval(days => i % 400) END AS t
                  FROM generate_series(1, ${JOBS}) i)
     INSERT INTO jobs (user_id, org_id, provider, status, config_name, config, hardware_profile, priority,
                       correlation_id, cost_estimate, created_at, queued_at, completed_at)
     SELECT u.id, u.org_id, 'simulator', s.status, 'cfg', '{}', 'l40s', 10, 'ops' || s.i, 1,
            s.t - interval '1 hour', s.t - interval '1 hour',
            CASE WHEN s.status IN ('completed', 'failed', 'cancelled') THEN s.t END
       FROM s JOIN u ON u.rn = s.i % ${USERS}`,
  );
  await db.query(
    `INSERT INTO queue_entries (job_id, user_id, org_id, provider, base_priority, effective_priority, status,
                                queued_at, pending_since, finished_at)
     SELECT job_id, user_id, org_id, provider, 10, 10, status, queued_at,
            CASE WHEN status = 'pending' THEN queued_at END, completed_at
       FROM jobs`,
  );
  for (const table of ['orgs', 'users', 'jobs', 'queue_entries']) await db.query(`ANALYZE ${table}`);
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

/** `SUBMITS` submits, CONCURRENCY at a time, the last ones repeated until `until` settles; their latencies in ms. */
async function submitLoad(url: string, key: string, until?: Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  let done = until === undefined;
  void until?.then(() => (done = true));
  let started = 0;
  const worker = async () => {
    while (started < SUBMITS || !done) {
      started++;
      const t = performance.now();
      const res = await fetch(`${url}/api/cloud/jobs/submit`, {
        method: 'POST',
        headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
        body: JSON.stringify({ config_name: 'bench', config: { steps: 1 }, provider: 'simulator' }),
      });
      await res.text();
      if (res.status !== 201) throw new Error(`submit answered ${res.status}`);
      times.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return times;
}

async function counts(db: DataSource) {
  const [row]: Record<string, number>[] = await db.query(
    `SELECT count(*) FILTER (WHERE status IN ('completed','failed','cancelled') AND completed_at < now() - interval '90 days')::int AS expired,
            count(*) FILTER (WHERE status IN ('pending','running') AND correlation_id LIKE 'ops%')::int AS active,
            (SELECT count(*)::int FROM queue_entries e WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.job_id = e.job_id)) AS orphans
       FROM jobs`,
  );
  return row;
}

async function main(): Promise<void> {
  const { running, adminKey, stop } = await startBenchApp(DB_NAME, { SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'false' });
  let failed: boolean;
  try {
    const db = running.app.get<DataSource>(getDataSourceToken());
    let t = performance.now();
    await seed(db);
    console.log(
      `seeded ${JOBS.toLocaleString('en-US')} jobs (with queue entries) in ${fmt((performance.now() - t) / 1000)} s`,
    );
    const before = await counts(db);
    await submitLoad(running.url, adminKey); // warm-up
    const alone = await submitLoad(running.url, adminKey);

    t = performance.now();
    const retention = running.app.get(JobRetentionService).purgeExpired();
    const during = await submitLoad(running.url, adminKey, retention);
    const summary = await retention;
    const seconds = (performance.now() - t) / 1000;
    const after = await counts(db);

    const ratio = pct(during, 0.99) / pct(alone, 0.99);
    console.log(
      `\nretention: deleted ${summary.deleted.toLocaleString('en-US')} jobs in ${summary.batches} batches, ` +
        `${fmt(seconds)} s: ${fmt(summary.deleted / seconds, 0)} jobs/s`,
    );
    console.log(`\n| submits (${CONCURRENCY} at a time) | n | p50 | p99 |`);
    console.log('| --- | --- | --- | --- |');
    console.log(`| alone | ${alone.length} | ${fmt(pct(alone, 0.5))} ms | ${fmt(pct(alone, 0.99))} ms |`);
    console.log(
      `| while retention runs | ${during.length} | ${fmt(pct(during, 0.5))} ms | ${fmt(pct(during, 0.99))} ms |`,
    );
    console.log(
      `\np99 ratio ${fmt(ratio, 2)}× (target ≤ ${TARGET_RATIO}×)${ratio > TARGET_RATIO ? ' **not met**' : ''}`,
    );
    const exact = summary.deleted === before.expired && after.expired === 0 && after.active === before.active;
    console.log(
      `expired before ${before.expired}, after ${after.expired}; active before ${before.active}, after ${after.active}; ` +
        `orphaned queue entries ${after.orphans}: ${exact && after.orphans === 0 ? 'exact' : '**not exact**'}`,
    );
    console.log('bulk cancel of 1,000 pending jobs: bench/bulk.ts, which npm run bench:ops runs next');
    failed = ratio > TARGET_RATIO || !exact || after.orphans !== 0;
  } finally {
    await stop();
  }
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
