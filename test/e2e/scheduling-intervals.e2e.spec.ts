import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppConfig } from '../../src/config';
import { TaskState } from '../../src/scheduling';
import { http } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

/** The three core tasks and the config value each one's owning module schedules it with. */
const CORE_TASKS: Record<string, (c: AppConfig) => number> = {
  job_status_polling: (c) => c.enterprise.jobPollingInterval,
  queue_processing: (c) => c.enterprise.queueProcessingInterval,
  approval_expiration: (c) => c.enterprise.approvalCheckInterval,
};

/**
 * The listed interval follows env > enterprise file > default: the Jobs, Queue and Approvals schedulers read it
 * from the configuration in their @Interval decorators. The listing matches the config value, and both match the
 * expected numbers below.
 */
async function listedIntervals(app: TestApp): Promise<Record<string, number | null>> {
  const config = app.app.get(AppConfig);
  const res = await http(app.url, 'GET', '/api/cloud/background-tasks', { key: app.adminKey });
  expect(res.status).toBe(200);
  const tasks = res.body.tasks as TaskState[];
  const listed = Object.entries(CORE_TASKS).map(([n, fromConfig]) => {
    const seconds = tasks.find((t) => t.name === n)?.interval_seconds ?? null;
    expect({ [n]: seconds }).toEqual({ [n]: fromConfig(config) });
    return [n, seconds];
  });
  return Object.fromEntries(listed);
}

describe('background task intervals from env, enterprise file and defaults', () => {
  const dir = makeTempDir('st-intervals-');
  const file = path.join(dir, 'enterprise.yaml');
  fs.writeFileSync(
    file,
    [
      'background:',
      '  job_status_polling: { interval_seconds: 45 }',
      '  queue_processing: { enabled: true, interval_seconds: 7 }',
      '  approval_expiration: { interval_seconds: 600 }',
    ].join('\n'),
  );
  const env = {
    SIMPLETUNER_JOB_POLL_INTERVAL: '12',
    SIMPLETUNER_QUEUE_INTERVAL: '2',
    SIMPLETUNER_APPROVAL_CHECK_INTERVAL: '90',
  };
  const apps: TestApp[] = [];
  const start = async (extra: Record<string, string>) => {
    const app = await startTestApp({ env: extra });
    apps.push(app);
    return app;
  };
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uses the defaults with neither (30 / 5 / 300 s)', async () => {
    expect(await listedIntervals(await start({}))).toEqual({
      job_status_polling: 30,
      queue_processing: 5,
      approval_expiration: 300,
    });
  });

  it('uses the enterprise file over the defaults', async () => {
    const app = await start({ SIMPLETUNER_ENTERPRISE_CONFIG: file });
    expect(await listedIntervals(app)).toEqual({
      job_status_polling: 45,
      queue_processing: 7,
      approval_expiration: 600,
    });
  });

  it('uses the environment over the defaults', async () => {
    expect(await listedIntervals(await start(env))).toEqual({
      job_status_polling: 12,
      queue_processing: 2,
      approval_expiration: 90,
    });
  });

  it('uses the environment over the file, key by key, when both are set', async () => {
    const app = await start({
      SIMPLETUNER_ENTERPRISE_CONFIG: file,
      SIMPLETUNER_JOB_POLL_INTERVAL: env.SIMPLETUNER_JOB_POLL_INTERVAL,
      SIMPLETUNER_QUEUE_INTERVAL: env.SIMPLETUNER_QUEUE_INTERVAL,
    });
    expect(await listedIntervals(app)).toEqual({
      job_status_polling: 12,
      queue_processing: 2,
      approval_expiration: 600,
    });
  });
});
