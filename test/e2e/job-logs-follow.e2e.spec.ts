import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { generateApiKey } from '../../src/auth/api-key.util';
import { JobSyncService } from '../../src/jobs/job-sync.service';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { logText } from '../support/running-jobs';
import { openSse, SseStream } from '../support/sse-client';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const INTERVAL_S = 0.5;
/** A leader task runs at most once per interval, less the lease's slack (20 %). */
const MIN_GAP_MS = INTERVAL_S * 1000 * 0.8;

/** Log follow with two instances on one database: one provider GET per interval, however many watch, wherever. */
describe('log follow across two instances (PostgreSQL, fake Replicate)', () => {
  let database: TestDatabase;
  let fake: FakeReplicate;
  let a: TestApp;
  let b: TestApp;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeReplicate();
    const env = {
      SIMPLETUNER_ADMIN_API_KEY: generateApiKey(),
      REPLICATE_API_BASE: fake.url,
      REPLICATE_API_TOKEN: fake.token,
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
      SIMPLETUNER_SECRET_KEY: randomBytes(32).toString('base64'),
      SIMPLETUNER_LOG_FOLLOW_INTERVAL: String(INTERVAL_S),
    };
    a = await startTestApp({ database, env });
    b = await startTestApp({ database, env });
    await http(a.url, 'PUT', '/api/cloud/polling/setting', { key: a.adminKey, body: { enabled: false } });
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await a?.stop();
    await b?.stop();
    await fake?.stop();
    await database?.drop();
  });

  async function watch(app: TestApp, jobId: string): Promise<SseStream> {
    const s = await openSse(app.url, `/api/cloud/jobs/${jobId}/logs/stream`, { key: app.adminKey });
    streams.push(s);
    expect(s.status).toBe(200);
    return s;
  }

  it('fetches a streamed running job once per interval for two watchers on two instances, and stops after the last leaves', async () => {
    const submit = await http(a.url, 'POST', '/api/cloud/jobs/submit', {
      key: a.adminKey,
      body: { config_name: 'followed', config: {} },
    });
    const jobId = submit.body.job_id as string;
    await http(a.url, 'POST', '/api/queue/process', { key: a.adminKey });
    const p = (await fake.waitForPrediction(jobId))!;
    await fake.setStatus(p.id, 'processing');
    await a.app.get(JobSyncService).syncActiveJobs();
    expect((await http(a.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: a.adminKey })).body.status).toBe('running');
    // Every read of the prediction finds one more line in its log.
    fake.feedLogs(
      p.id,
      Array.from({ length: 1000 }, (_, i) => `step ${i}\n`),
    );
    const gets = () => fake.requests.filter((r) => r.method === 'GET' && r.path === `/predictions/${p.id}`);
    const before = gets().length;

    const onA = await watch(a, jobId);
    const onB = await watch(b, jobId);
    await onB.waitFor((s) => logText(s).includes('step 3\n'), 10_000, 'followed lines on B');
    await onA.waitFor((s) => logText(s).includes('step 3\n'), 10_000, 'followed lines on A');
    const t0 = Date.now();
    const g0 = gets().length;
    await sleep(3000);
    const windowMs = Date.now() - t0;
    const fetched = gets().length - g0;
    // Two instances fetching on their own would make two GETs per interval; the leases allow one per interval
    // (less their slack) in all. Assert that bound, and that following really goes on.
    expect(fetched).toBeLessThanOrEqual(Math.floor(windowMs / MIN_GAP_MS) + 1);
    expect(fetched).toBeGreaterThanOrEqual(2);
    const followed = gets().slice(before);
    // What one instance fetched reached both streams, each line once, in order.
    const lines = followed.length;
    await onA.waitFor((s) => logText(s).includes(`step ${lines - 1}\n`), 5000, 'the last fetched line on A');
    await onB.waitFor((s) => logText(s).includes(`step ${lines - 1}\n`), 5000, 'the last fetched line on B');
    for (const s of [onA, onB]) {
      const got = logText(s).split('\n').filter(Boolean);
      expect(got).toEqual(got.map((_, i) => `step ${i}`));
    }

    await onA.close();
    await sleep(3 * INTERVAL_S * 1000);
    expect(gets().length).toBeGreaterThan(before + lines);
    await onB.close();
    const db = a.app.get(DataSource);
    for (let i = 0; i < 50 && (await db.query(`SELECT 1 FROM followed_jobs WHERE job_id = $1`, [jobId])).length; i++)
      await sleep(100);
    expect(await db.query(`SELECT 1 FROM followed_jobs WHERE job_id = $1`, [jobId])).toHaveLength(0);
    // A tick that started before the row went may still be finishing its fetch.
    await sleep(INTERVAL_S * 1000);
    const stopped = gets().length;
    await sleep(4 * INTERVAL_S * 1000);
    expect(gets().length).toBe(stopped);
  });
});
