/**
 * npm run bench:bulk — bulk cancel (POST /api/cloud/jobs/bulk) of 1,000 pending jobs on PostgreSQL.
 *
 * Starts the app in this process on a fresh database (test_bench_bulk on TEST_DATABASE_URL's server, dropped at the
 * end) with dispatch off, submits 1,000 jobs over HTTP (each with its queue entry and events, as a user would), then
 * cancels them in one bulk request; RUNS times, the median and the slowest printed, and each run's bulk delete of
 * the cancelled jobs. Beside it, the baseline: the same 1,000 cancels as 1,000 single requests, one after another.
 * Target: the bulk cancel under 2 s.
 *
 * Env: TEST_DATABASE_URL (the server), BENCH_RUNS (3).
 */
import { fmt, median } from './queue-common';
import { startBenchApp } from './bench-app';

const DB_NAME = 'test_bench_bulk';
const JOBS = 1_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET_MS = 2000;
const SUBMIT_CONCURRENCY = 8;

async function main(): Promise<void> {
  const { running, adminKey, stop } = await startBenchApp(DB_NAME, { SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'false' });
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${running.url}${url}`, {
      method,
      headers: { 'X-API-Key': adminKey, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 300)
      throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(json).slice(0, 300)}`);
    return json;
  };
  const submitMany = async (): Promise<string[]> => {
    const ids: string[] = [];
    const one = () =>
      call('POST', '/api/cloud/jobs/submit', { config_name: 'bench-bulk', config: {}, provider: 'simulator' });
    while (ids.length < JOBS) {
      const n = Math.min(SUBMIT_CONCURRENCY, JOBS - ids.length);
      const done = await Promise.all(Array.from({ length: n }, one));
      ids.push(...done.map((b) => b.job_id as string));
    }
    return ids;
  };
  const timed = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  try {
    const cancels: number[] = [];
    const deletes: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const ids = await submitMany();
      let summary: Record<string, unknown> = {};
      cancels.push(
        await timed(
          async () => (summary = await call('POST', '/api/cloud/jobs/bulk', { action: 'cancel', job_ids: ids })),
        ),
      );
      if (summary.succeeded !== JOBS) throw new Error(`bulk cancel: ${JSON.stringify(summary).slice(0, 300)}`);
      deletes.push(await timed(() => call('POST', '/api/cloud/jobs/bulk', { action: 'delete', job_ids: ids })));
    }
    const ids = await submitMany();
    const single = await timed(async () => {
      for (const id of ids) await call('POST', `/api/cloud/jobs/${id}/cancel`);
    });
    const m = median(cancels);
    const slowest = Math.max(...cancels);
    const missed = slowest >= TARGET_MS;
    if (missed) process.exitCode = 1;
    console.log(`${JOBS.toLocaleString('en-US')} pending jobs, ${RUNS} runs; target: bulk cancel < ${TARGET_MS} ms\n`);
    console.log('| what | median | slowest |');
    console.log('| --- | --- | --- |');
    console.log(`| bulk cancel | ${fmt(m)} ms | ${fmt(slowest)} ms${missed ? ' **not met**' : ''} |`);
    console.log(`| bulk delete (the cancelled jobs) | ${fmt(median(deletes))} ms | ${fmt(Math.max(...deletes))} ms |`);
    console.log(`| baseline: ${JOBS} single cancels in a row | ${fmt(single)} ms | — |`);
    console.log(`\nbulk cancel is ${fmt(single / m)}× faster than single requests`);
  } finally {
    await stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
