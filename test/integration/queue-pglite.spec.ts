import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Job } from '../../src/jobs/job.entity';
import { BackgroundTaskManager } from '../../src/scheduling';
import {
  FakeQueueProvider,
  harness,
  jobStatuses,
  makeMembers,
  QueueHarness,
  sampleSlots,
  setQueueLimits,
  submitJob,
} from '../support/queue-fixtures';
import { actorFor } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';
import { makeTempDir } from '../support/test-config';

/**
 * The queue's core flow on the embedded database (PGlite behind a pool of one): limits, the scheduled task, and a
 * released slot waking the next tick at once (no processTick call from the test). The app's services without HTTP;
 * the background tasks are started as the app starts them once it listens.
 */
describe('queue on PGlite', () => {
  let services: ServiceModule;
  let tasks: BackgroundTaskManager;
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
    services = await startServiceModule({
      db: 'pglite',
      dataDir,
      env: { SIMPLETUNER_QUEUE_INTERVAL: '3600', SIMPLETUNER_LOG_LEVEL: 'INFO', SIMPLETUNER_LOG_FILE: logFile },
    });
    tasks = services.get(BackgroundTaskManager);
    await tasks.start();
    h = { ...harness(services.module), admin: await actorFor(services.module, services.adminKey) };
    fake = new FakeQueueProvider();
    h.registry.register(fake);
  });
  afterAll(async () => {
    await services?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers the queue_processing task with the configured interval', async () => {
    // What GET /api/cloud/background-tasks lists.
    expect(tasks.isStarted()).toBe(true);
    expect(tasks.getStates()).toEqual(
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
    const limits = await setQueueLimits(h, { max_concurrent: 3, user_max_concurrent: 2, org_max_concurrent: 3 });
    expect(limits).toMatchObject({ max_concurrent: 3, user_max_concurrent: 2, org_max_concurrent: 3 });
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
