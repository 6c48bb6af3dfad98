/**
 * npm run bench:logs — following many running jobs' logs at once: what it costs the provider.
 *
 * The app runs on the embedded database (PGlite) in this process against the fake Replicate, with job polling off
 * and the log follow every `interval` seconds. `jobs` jobs are submitted, dispatched and running; each prediction's
 * log grows by one line every time it is read. One SSE log stream is opened per job; after a warm-up interval, the
 * fake's request log is counted over `intervals` follow intervals. Printed: provider calls per job per interval
 * (target: 1, i.e. one GET per followed job per interval, nothing else), the spread of GETs per job, the follow
 * task's tick duration, and how much of the fetched log reached the streams.
 *
 *   npm run bench:logs -- [jobs=200] [interval=1] [intervals=10]
 */
import * as os from 'node:os';
import { JobSyncService } from '../src/jobs/job-sync.service';
import { BackgroundTaskManager } from '../src/scheduling';
import { startFakeReplicate, type FakePrediction } from '../test/support/fake-replicate';
import { http } from '../test/support/http';
import { openSse, type SseStream } from '../test/support/sse-client';
import { startTestApp } from '../test/support/test-app';

const JOBS = Number(process.argv[2] ?? 200);
const INTERVAL_S = Number(process.argv[3] ?? 1);
const INTERVALS = Number(process.argv[4] ?? 10);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const fake = await startFakeReplicate();
  const app = await startTestApp({
    db: 'pglite',
    env: {
      REPLICATE_API_BASE: fake.url,
      REPLICATE_API_TOKEN: fake.token,
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
      SIMPLETUNER_LOG_FOLLOW_INTERVAL: String(INTERVAL_S),
      SIMPLETUNER_SSE_MAX_PER_USER: String(JOBS + 10),
      SIMPLETUNER_SSE_MAX_PER_ORG: String(JOBS + 10),
      SIMPLETUNER_REPLICATE_CALLS_PER_MINUTE: '1000000',
      SIMPLETUNER_REPLICATE_CREATES_PER_MINUTE: '1000000',
    },
  });
  const streams: SseStream[] = [];
  try {
    const key = app.adminKey;
    await http(app.url, 'PUT', '/api/cloud/polling/setting', { key, body: { enabled: false } });
    await http(app.url, 'PUT', '/api/queue/concurrency', {
      key,
      body: { max_concurrent: JOBS, user_max_concurrent: JOBS, org_max_concurrent: JOBS },
    });
    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const res = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
        key,
        body: { config_name: `bench-${i}`, config: {} },
      });
      jobIds.push(res.body.job_id as string);
    }
    const predictions: FakePrediction[] = [];
    while (predictions.length < JOBS) {
      await http(app.url, 'POST', '/api/queue/process', { key });
      predictions.length = 0;
      predictions.push(...[...fake.predictions.values()]);
    }
    for (const p of predictions) await fake.setStatus(p.id, 'processing');
    await app.app.get(JobSyncService).syncActiveJobs();
    for (const p of predictions) {
      fake.feedLogs(
        p.id,
        Array.from({ length: 10_000 }, (_, n) => `Steps: ${n}/10000 step_loss=0.123\n`),
      );
    }
    console.log(`${JOBS} running jobs; opening one log stream each (follow every ${INTERVAL_S} s)`);
    for (const jobId of jobIds) {
      streams.push(await openSse(app.url, `/api/cloud/jobs/${jobId}/logs/stream`, { key }));
    }
    await sleep(INTERVAL_S * 1000 * 1.5);

    const tasks = app.app.get(BackgroundTaskManager);
    const runsBefore = tasks.getState('job_log_follow')!.runs;
    const from = fake.requests.length;
    const started = Date.now();
    await sleep(INTERVALS * INTERVAL_S * 1000);
    const seconds = (Date.now() - started) / 1000;
    const calls = fake.requests.slice(from);
    const ticks = tasks.getState('job_log_follow')!.runs - runsBefore;
    const perJob = new Map<string, number>(predictions.map((p) => [p.id, 0]));
    for (const r of calls) {
      const m = /^\/predictions\/([^/]+)$/.exec(r.path);
      if (r.method === 'GET' && m && perJob.has(m[1])) perJob.set(m[1], perJob.get(m[1])! + 1);
    }
    const counts = [...perJob.values()].sort((a, b) => a - b);
    const intervals = seconds / INTERVAL_S;
    // Each follow tick has its own correlation id, which every provider call it makes carries: the GETs per job
    // within one tick are the cost of following, however long a tick takes on a loaded machine.
    const byTick = new Map<string, Map<string, number>>();
    for (const r of fake.requests) {
      const m = /^\/predictions\/([^/]+)$/.exec(r.path);
      const tick = r.headers['x-correlation-id'];
      if (r.method !== 'GET' || !m || typeof tick !== 'string') continue;
      const jobs = byTick.get(tick) ?? new Map<string, number>();
      jobs.set(m[1], (jobs.get(m[1]) ?? 0) + 1);
      byTick.set(tick, jobs);
    }
    const full = [...byTick.values()].filter((jobs) => jobs.size === JOBS);
    const worst = Math.max(0, ...[...byTick.values()].flatMap((jobs) => [...jobs.values()]));
    const reached = streams.filter((s) => s.messages.some((m) => m.event === 'log')).length;
    console.log(
      `window: ${seconds.toFixed(1)} s = ${intervals.toFixed(1)} follow intervals; follow ticks run: ${ticks}`,
    );
    console.log(
      `provider calls in the window: ${calls.length}, all GET /predictions/:id of followed jobs: ${counts.reduce((a, b) => a + b, 0)}`,
    );
    console.log(
      `follow ticks that fetched all ${JOBS} jobs: ${full.length}; most GETs of one job within one tick: ${worst} (target 1)`,
    );
    console.log(
      `provider calls per job per interval: ${(calls.length / JOBS / intervals).toFixed(3)} (at most 1; less when a tick outlasts the interval and the next is skipped)`,
    );
    console.log(
      `GETs per job in the window: min ${counts[0]}, median ${counts[counts.length >> 1]}, max ${counts[counts.length - 1]}`,
    );
    console.log(`follow tick: last ${tasks.getState('job_log_follow')!.last_duration_ms} ms for ${JOBS} jobs`);
    console.log(`streams that received log text: ${reached} of ${JOBS}`);
    console.log(`load average (1 min): ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs`);
  } finally {
    await Promise.all(streams.map((s) => s.close()));
    await app.stop();
    await fake.stop();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
