/**
 * npm run bench:usage — the usage report (GET /api/usage) over 100,000 jobs on PostgreSQL.
 *
 * Starts the app in this process on a fresh database (test_bench_usage on TEST_DATABASE_URL's server, dropped at the
 * end), seeds 100,000 jobs across 1,000 users in 50 orgs, created over the current UTC month and the one before
 * (every status, costs known for finished ones, four hardware profiles, two providers), analyses the tables, then
 * asks for the report over HTTP as the admin (every job), a lead (one org) and a researcher (one user), for each
 * group_by, JSON and CSV: RUNS timed requests each after one warm-up, the median printed. Target: under 1 s.
 *
 * Env: TEST_DATABASE_URL (the server), BENCH_RUNS (5).
 */
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { fmt, median } from './queue-common';
import { startBenchApp } from './bench-app';

const DB_NAME = 'test_bench_usage';
const JOBS = 100_000;
const USERS = 1_000;
const ORGS = 50;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_MS = 1000;
const GROUPS = ['day', 'user', 'org', 'hardware_profile', 'provider'] as const;

async function seed(db: DataSource): Promise<void> {
  await db.query(`INSERT INTO orgs (name) SELECT 'usage-org-' || o FROM generate_series(0, ${ORGS - 1}) o`);
  await db.query(
    `INSERT INTO users (username, level, org_id)
     SELECT 'usage-user-' || u, CASE WHEN u % 20 = 0 THEN 'lead' ELSE 'researcher' END,
            (SELECT id FROM orgs WHERE name = 'usage-org-' || (u % ${ORGS}))
       FROM generate_series(0, ${USERS - 1}) u`,
  );
  // Spread over the previous and the current UTC month, oldest first; every tenth job still running or pending.
  await db.query(
    `WITH u AS (SELECT id, org_id, substr(username, 12)::int AS rn FROM users WHERE username LIKE 'usage-user-%'),
          s AS (SELECT i, (ARRAY['pending','running','failed','cancelled','completed','completed','completed',
                                 'completed','completed','completed'])[(i / ${USERS}) % 10 + 1] AS status,
                       date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1 month'
                         + ((now() - (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1 month'))
                            * (i::float8 / ${JOBS})) AS t
                  FROM generate_series(1, ${JOBS}) i)
     INSERT INTO jobs (user_id, org_id, provider, external_id, status, config_name, config, hardware_profile, priority,
                       correlation_id, cost_estimate, cost_usd, created_at, queued_at, started_at, completed_at)
     SELECT u.id, u.org_id, CASE WHEN s.i % 3 = 0 THEN 'replicate' ELSE 'simulator' END,
            CASE WHEN s.status = 'pending' THEN NULL ELSE 'usage_' || s.i END, s.status, 'cfg-' || (s.i % 50), '{}',
            (ARRAY['l40s','h100','l40s-x2','h100-x4'])[s.i % 4 + 1], 10, 'usage' || s.i, 3.5,
            CASE WHEN s.status IN ('completed', 'failed') THEN 1 + (s.i % 7) END, s.t, s.t,
            CASE WHEN s.status IN ('running', 'completed', 'failed') THEN s.t + interval '1 minute' END,
            CASE WHEN s.status IN ('completed', 'failed', 'cancelled') THEN s.t + interval '31 minutes' END
       FROM s JOIN u ON u.rn = s.i % ${USERS}`,
  );
  for (const table of ['orgs', 'users', 'jobs']) await db.query(`ANALYZE ${table}`);
}

async function keyFor(db: DataSource, username: string, makeKey: (userId: string) => Promise<string>) {
  const [user]: { id: string }[] = await db.query(`SELECT id FROM users WHERE username = $1`, [username]);
  return makeKey(user.id);
}

async function timed(url: string, key: string, csv: boolean): Promise<number> {
  const t = performance.now();
  const res = await fetch(url, { headers: { 'X-API-Key': key, ...(csv ? { Accept: 'text/csv' } : {}) } });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${body.slice(0, 200)}`);
  return performance.now() - t;
}

async function main(): Promise<void> {
  const { running, adminKey, stop } = await startBenchApp(DB_NAME);
  let missed = 0;
  try {
    const db = running.app.get<DataSource>(getDataSourceToken());
    const t = performance.now();
    await seed(db);
    console.log(`seeded ${JOBS.toLocaleString('en-US')} jobs in ${fmt((performance.now() - t) / 1000)} s`);
    const makeKey = async (userId: string) => {
      const res = await fetch(`${running.url}/api/users/${userId}/api-keys`, {
        method: 'POST',
        headers: { 'X-API-Key': adminKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'bench' }),
      });
      return ((await res.json()) as { key: string }).key;
    };
    const callers = [
      { who: 'admin (all jobs)', key: adminKey },
      { who: 'lead (one org)', key: await keyFor(db, 'usage-user-0', makeKey) },
      { who: 'researcher (own)', key: await keyFor(db, 'usage-user-1', makeKey) },
    ];
    // From the first of the previous month: every seeded job is in the range.
    const now = new Date();
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString();
    console.log(`median of ${RUNS} runs (after one warm-up), from=${from}; target < ${TARGET_MS} ms\n`);
    console.log('| caller | group_by | JSON | CSV |');
    console.log('| --- | --- | --- | --- |');
    for (const { who, key } of callers) {
      for (const group of GROUPS) {
        const url = `${running.url}/api/usage?from=${encodeURIComponent(from)}&group_by=${group}`;
        const cells: string[] = [];
        for (const csv of [false, true]) {
          await timed(url, key, csv);
          const times: number[] = [];
          for (let i = 0; i < RUNS; i++) times.push(await timed(url, key, csv));
          const m = median(times);
          if (m >= TARGET_MS) missed++;
          cells.push(`${fmt(m)} ms${m >= TARGET_MS ? ' **not met**' : ''}`);
        }
        console.log(`| ${who} | ${group} | ${cells.join(' | ')} |`);
      }
    }
    console.log(missed ? `\n${missed} medians at or over ${TARGET_MS} ms` : `\nevery median under ${TARGET_MS} ms`);
  } finally {
    await stop();
  }
  if (missed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
