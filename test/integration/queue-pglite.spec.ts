import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Job } from '../../src/jobs/job.entity';
import { http } from '../support/http';
import {
  FakeQueueProvider,
  harness,
  jobStatuses,
  makeMembers,
  QueueHarness,
  sampleSlots,
  submitJob,
} from '../support/queue-fixtures';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

/**
 * The queue's core flow on the embedded database (PGlite behind a pool of one): limits, the scheduled task, and a
 * released slot waking the next tick at once (no processTick call from the test).
 */
describe('queue on PGlite', () => {
  let app: TestApp;
  let h: QueueHarness;
  let fake: FakeQueueProvider;
  const dataDir = makeTempDir();
  const logFile = path.join(dataDir, 'app.log');
  const logLines = () =>
    fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));

  beforeAll(async () => {
    app = await startTestApp({
      db: 'pglite',
      dataDir,
      env: { SIMPLETUNER_QUEUE_INTERVAL: '3600', SIMPLETUNER_LOG_LEVEL: 'INFO', SIMPLETUNER_LOG_FILE: logFile },
    });
    h = harness(app.app);
    fake = new FakeQueueProvider();
    h.registry.register(fake);
  });
  afterAll(async () => {
    await app?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers the queue_processing task with the configured interval', async () => {
    const res = await http(app.url, 'GET', '/api/cloud/background-tasks', { key: app.adminKey });
    expect(res.status).toBe(200);
    const tasks = Array.isArray(res.body) ? res.body : res.body.tasks;
    expect(tasks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'queue_processing', interval_seconds: 3600, enabled: true }),
      ]),
    );
    expect(logLines()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'INFO',
          logger: 'simpletuner.cloud.queue',
          message: 'Queue scheduler started',
        }),
      ]),
    );
  });

  it('dispatches within the limits and uses a released slot at once', async () => {
    const res = await http(app.url, 'PUT', '/api/queue/concurrency', {
      key: app.adminKey,
      body: { max_concurrent: 3, user_max_concurrent: 2, org_max_concurrent: 3 },
    });
    expect(res.status).toBe(200);
    const members = await makeMembers(h.db, 2, 2);
    const jobs: Job[] = [];
    for (let i = 0; i < 8; i++) jobs.push(await submitJob(h, members[i % 4]));
    // A submit wakes a tick too: whichever tick gets there, the three slots fill and no more.
    await h.queue.processTick(new Date());
    expect(await sampleSlots(h.db)).toMatchObject({ global: 3 });

    // The interval tick is an hour away: from here on only releases drive dispatch, each waking a tick.
    const deadline = Date.now() + 20_000;
    while ((await jobStatuses(h.db)).completed !== 8 && Date.now() < deadline) {
      const s = await sampleSlots(h.db);
      expect(s.global).toBeLessThanOrEqual(3);
      expect(s.maxUser).toBeLessThanOrEqual(2);
      const [running] = await h.db.query(`SELECT job_id FROM queue_entries WHERE status = 'running' LIMIT 1`);
      if (running) await h.transitions.transition(running.job_id, 'completed', { source: 'test.poll' });
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(await jobStatuses(h.db)).toEqual({ completed: 8 });
    for (const j of jobs) expect(fake.createsFor(j.jobId)).toBe(1);
    // Dispatch work logs under the job's own correlation id, with its fields.
    const dispatched = logLines().find((l) => l.message === 'Job dispatched' && l.extra?.job_id === jobs[0].jobId);
    expect(dispatched).toMatchObject({
      correlation_id: jobs[0].correlationId,
      extra: { provider: 'fakeq', step: 'dispatch', tick_id: expect.any(String) },
    });
  });
});
