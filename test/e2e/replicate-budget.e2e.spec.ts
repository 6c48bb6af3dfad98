import { generateApiKey } from '../../src/auth/api-key.util';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const LIMIT = 20;
const WINDOW_MS = 2000;
const JOBS = 60;

/** Most creates the fake saw in any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j] <= sorted[i] + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

/**
 * Replicate limits creates per account, not per process: three instances dispatching at the same time draw on one
 * budget kept in PostgreSQL, so the fake never sees more than the limit in any window (here 20 per 2 s).
 */
describe('one Replicate create budget for three instances (PostgreSQL, fake Replicate)', () => {
  let database: TestDatabase;
  let fake: FakeReplicate;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    fake = await startFakeReplicate();
    database = await createTestDatabase();
    const env = {
      SIMPLETUNER_ADMIN_API_KEY: generateApiKey(),
      REPLICATE_API_TOKEN: fake.token,
      REPLICATE_API_BASE: fake.url,
      SIMPLETUNER_REPLICATE_CREATES_PER_MINUTE: String(LIMIT),
      SIMPLETUNER_REPLICATE_RATE_WINDOW_SECONDS: String(WINDOW_MS / 1000),
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'false',
      SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
      DB_POOL_SIZE: '4',
    };
    for (let i = 0; i < 3; i++) apps.push(await startTestApp({ database, env }));
  });
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await database?.drop();
    await fake?.stop();
  });

  it('never exceeds the configured budget in any window, and dispatches every job once', async () => {
    const admin = apps[0].adminKey;
    const wide = { max_concurrent: 1000, user_max_concurrent: 1000, org_max_concurrent: 1000 };
    expect((await http(apps[0].url, 'PUT', '/api/queue/concurrency', { key: admin, body: wide })).status).toBe(200);

    // Waves of jobs, each picked up by the next instance while the previous ones still wait for budget.
    const ticks: Promise<unknown>[] = [];
    for (let wave = 0; wave < 10; wave++) {
      const a = apps[wave % 3];
      for (let j = 0; j < JOBS / 10; j++) {
        const res = await http(a.url, 'POST', '/api/cloud/jobs/submit', {
          key: admin,
          body: { config_name: `w${wave}-${j}`, config: {}, provider: 'replicate' },
        });
        expect(res.status).toBe(201);
      }
      ticks.push(http(a.url, 'POST', '/api/queue/process', { key: admin }));
      await new Promise((r) => setTimeout(r, 250));
    }
    await Promise.all(ticks);
    // Whatever a tick left for later (none expected), one more round dispatches.
    for (const a of apps) await http(a.url, 'POST', '/api/queue/process', { key: admin });

    const creates = fake.requests.filter((r) => r.method === 'POST' && r.path === '/predictions');
    expect(
      busiestWindow(
        creates.map((r) => r.at),
        WINDOW_MS,
      ),
    ).toBeLessThanOrEqual(LIMIT);
    const perJob = new Map<string, number>();
    for (const p of fake.predictions.values()) {
      const id = String(p.input.job_id);
      perJob.set(id, (perJob.get(id) ?? 0) + 1);
    }
    expect(perJob.size).toBe(JOBS);
    expect([...perJob.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});
