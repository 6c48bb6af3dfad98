import { DataSource } from 'typeorm';
import { JobSyncService } from '../../src/jobs/job-sync.service';
import { FakePrediction, FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { adminCall, allowManyManualJobs, manualReplicateEnv, runningReplicateJob } from '../support/running-jobs';
import { openSse, SseStream } from '../support/sse-client';
import { startTestApp, TestApp } from '../support/test-app';
import { TestClock } from '../support/test-clock';

const TOTAL = 1000;

/** A training bar draw as tqdm prints it for SimpleTuner (`Epoch E/N, Steps: …`), ended by tqdm's `\r`. */
function bar(step: number, total = TOTAL, epochs = 4): string {
  const pct = Math.floor((step / total) * 100);
  const filled = Math.floor(pct / 10);
  const mmss = (s: number) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  const epoch = Math.max(1, Math.ceil((step / total) * epochs));
  return (
    `Epoch ${epoch}/${epochs}, Steps: ${String(pct).padStart(3)}%|${'█'.repeat(filled)}${' '.repeat(10 - filled)}| ` +
    `${step}/${total} [${mmss(step)}<${mmss(total - step)},  1.00it/s, lr=0.0001, step_loss=${(1 / step).toFixed(4)}]\r`
  );
}

/** Progress read from logs that the fake Replicate grows poll by poll; time from a clock the test sets. */
describe('job progress (PostgreSQL, fake Replicate)', () => {
  let fake: FakeReplicate;
  let app: TestApp;
  const clock = new TestClock();
  const streams: SseStream[] = [];

  beforeAll(async () => {
    fake = await startFakeReplicate();
    app = await startTestApp({
      clock,
      env: { ...manualReplicateEnv(fake), SIMPLETUNER_PROGRESS_EVENT_SECONDS: '10' },
    });
    await allowManyManualJobs(call);
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await app?.stop();
    await fake?.stop();
  });

  const call = adminCall(() => app);
  const poll = () => app.app.get(JobSyncService).syncActiveJobs();
  /** Each test's second 0, set once its job runs: a clock far from the job's start would time the job out. */
  let t0 = 0;
  const at = (seconds: number) => clock.set(t0 + seconds * 1000);

  /** The job's job_progress events, as stored. */
  async function progressEvents(jobId: string): Promise<Record<string, any>[]> {
    const rows = await app.app
      .get(DataSource)
      .query(`SELECT data FROM events WHERE type = 'job_progress' AND job_id = $1 ORDER BY id`, [jobId]);
    return rows.map((r: { data: Record<string, any> }) => r.data);
  }

  async function runningJob(): Promise<{ jobId: string; p: FakePrediction }> {
    clock.release();
    const { jobId, p } = await runningReplicateJob(app, fake, call, { config_name: 'progress' });
    const job = (await call('GET', `/api/cloud/jobs/${jobId}`)).body;
    expect(job).toMatchObject({ status: 'running', progress: null });
    t0 = Date.now();
    return { jobId, p };
  }

  it('a burst of 1,000 bar draws over 50 polls gives a handful of events; the job shows the last draw', async () => {
    const { jobId, p } = await runningJob();
    const events = await openSse(app.url, '/api/events', {
      key: app.adminKey,
      query: { job_id: jobId, types: 'job_progress' },
    });
    streams.push(events);
    expect(events.status).toBe(200);
    const pieces: string[] = [];
    for (let step = 1; step <= TOTAL; step += 20) {
      pieces.push(Array.from({ length: 20 }, (_, i) => bar(step + i)).join(''));
    }
    fake.feedLogs(p.id, pieces);
    // One poll a second of the test's clock: each reads the next 20 draws.
    for (let i = 0; i < pieces.length; i++) {
      at(i);
      await poll();
    }
    expect(p.logs.split('\r')).toHaveLength(TOTAL + 1);

    const stored = await progressEvents(jobId);
    // Seconds 0, 10, 20, 30 and 40 of the 50: one per SIMPLETUNER_PROGRESS_EVENT_SECONDS.
    expect(stored.map((e) => e.updated_at)).toEqual(
      [0, 10, 20, 30, 40].map((s) => new Date(t0 + s * 1000).toISOString()),
    );
    expect(stored.map((e) => e.step)).toEqual([20, 220, 420, 620, 820]);
    expect(stored[0]).toMatchObject({ type: 'job_progress', job_id: jobId, stage: 'training', total_steps: TOTAL });
    // The same events on the stream, as stored.
    await events.waitFor((s) => s.messages.length === stored.length, 5000, 'the stored events');
    expect(events.messages.map((m) => m.json)).toEqual(stored);

    const job = (await call('GET', `/api/cloud/jobs/${jobId}`)).body;
    expect(job.progress).toEqual({
      stage: 'training',
      step: TOTAL,
      total_steps: TOTAL,
      percent: 100,
      epoch: 4,
      total_epochs: 4,
      steps_per_second: 1,
      eta_seconds: 0,
      loss: 0.001,
      updated_at: new Date(t0 + 49_000).toISOString(),
    });
    const list = await call('GET', '/api/cloud/jobs');
    expect(list.body.jobs.find((j: { job_id: string }) => j.job_id === jobId).progress).toEqual(job.progress);
  });

  it('an event on a stage change or a 1-point move once the interval has passed; updated_at only on a change', async () => {
    const { jobId, p } = await runningJob();
    const step = async (seconds: number, text: string) => {
      fake.appendLogs(p.id, text);
      at(seconds);
      await poll();
      return (await call('GET', `/api/cloud/jobs/${jobId}`)).body.progress;
    };
    expect(
      await step(0, '[STAGE] ⏳ Loading base model: Loading model: `black-forest-labs/FLUX.1-dev`...\n'),
    ).toMatchObject({ stage: 'loading_model', step: null, updated_at: new Date(t0).toISOString() });
    // A stage change within the interval: stored, no event yet.
    expect(await step(2, '[STAGE] ⏳ Configuring data backends: Configuring data backends...\n')).toMatchObject({
      stage: 'caching',
    });
    expect(await step(11, bar(10, 1000))).toMatchObject({ stage: 'training', step: 10, percent: 1 });
    // Half a point since the last event, long after it: no event.
    expect(await step(25, bar(15, 1000))).toMatchObject({ percent: 1.5 });
    // The same draw again: nothing changed, updated_at stays.
    expect(await step(26, bar(15, 1000))).toMatchObject({ updated_at: new Date(t0 + 25_000).toISOString() });
    await step(30, bar(20, 1000));
    // A stage change held back by the interval goes out with the next text after it, though that changes nothing.
    await step(31, '[STAGE] ⏳ Running Validation: Validation is starting.\n');
    expect((await progressEvents(jobId)).map((e) => e.stage)).toEqual(['loading_model', 'training', 'training']);
    expect(await step(45, '[STAGE] ✓ Running Validation: done\n')).toMatchObject({
      stage: 'validating',
      updated_at: new Date(t0 + 31_000).toISOString(),
    });

    const stored = await progressEvents(jobId);
    expect(stored.map((e) => [e.stage, e.percent, e.updated_at])).toEqual([
      ['loading_model', null, new Date(t0).toISOString()],
      ['training', 1, new Date(t0 + 11_000).toISOString()],
      ['training', 2, new Date(t0 + 30_000).toISOString()],
      ['validating', 2, new Date(t0 + 31_000).toISOString()],
    ]);
  });
});

/** The simulator on the embedded database: a fresh install shows progress moving. */
describe('job progress (PGlite, simulator)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      db: 'pglite',
      env: {
        SIMULATOR_STEP_SECONDS: '6',
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
        SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
        SIMPLETUNER_PROGRESS_EVENT_SECONDS: '1',
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('shows progress moving in GET /api/cloud/jobs/:id, and job_progress events as the stage changes', async () => {
    const key = app.adminKey;
    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key,
      body: { config_name: 's', config: {} },
    });
    const jobId = submit.body.job_id as string;
    const events = await openSse(app.url, '/api/events', { key, query: { job_id: jobId, types: 'job_progress' } });
    await http(app.url, 'POST', '/api/queue/process', { key });
    const seen: Record<string, any>[] = [];
    let job = submit.body;
    for (let i = 0; i < 200 && job.status !== 'completed'; i++) {
      await app.app.get(JobSyncService).syncActiveJobs();
      job = (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key })).body;
      if (job.progress && job.status === 'running') seen.push(job.progress);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(job.status).toBe('completed');
    expect(job.progress).toMatchObject({
      stage: 'completed',
      percent: 100,
      step: 200,
      total_steps: 200,
      eta_seconds: 0,
    });
    // Read while running: the stage and percent moved between reads.
    expect(new Set(seen.map((s) => s.updated_at)).size).toBeGreaterThan(3);
    expect(new Set(seen.map((s) => s.stage)).size).toBeGreaterThan(1);
    const percents = seen.map((s) => s.percent).filter((v): v is number => v !== null);
    expect(percents.length).toBeGreaterThan(1);
    expect(Math.max(...percents)).toBeGreaterThan(Math.min(...percents));

    // Streamed as stored: more than one stage (which ones depends on when the polls fall), each event after a stage
    // change or a 1-point move since the one before.
    const stored = (
      await app.app
        .get(DataSource)
        .query(`SELECT data FROM events WHERE type = 'job_progress' AND job_id = $1 ORDER BY id`, [jobId])
    ).map((r: { data: Record<string, any> }) => r.data);
    await events.waitFor((s) => s.messages.length === stored.length, 5000, 'the stored events');
    await events.close();
    expect(events.messages.map((m) => m.json)).toEqual(stored);
    expect(new Set(stored.map((e: Record<string, any>) => e.stage)).size).toBeGreaterThan(1);
    for (let i = 1; i < stored.length; i++) {
      const moved = Math.abs((stored[i].percent ?? 0) - (stored[i - 1].percent ?? 0)) >= 1;
      expect(moved || stored[i].stage !== stored[i - 1].stage).toBe(true);
    }
  });
});
