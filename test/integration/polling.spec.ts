import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DataSource } from 'typeorm';
import type { AuthenticatedUser } from '../../src/auth';
import { JobSyncService } from '../../src/jobs/job-sync.service';
import { JobsService } from '../../src/jobs/jobs.service';
import { flushLogs } from '../../src/logging';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { logOutput } from '../support/test-logs';
import { actorFor } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';
import { makeTempDir } from '../support/test-config';

/** 1,000 active Replicate jobs synced in one tick, in few calls, none missed (the app's services, no HTTP). */
describe('job status polling against the fake Replicate (PostgreSQL)', () => {
  let services: ServiceModule;
  let fake: FakeReplicate;
  let db: DataSource;
  let sync: JobSyncService;
  let admin: AuthenticatedUser;

  beforeAll(async () => {
    fake = await startFakeReplicate();
    services = await startServiceModule({ env: { REPLICATE_API_BASE: fake.url, REPLICATE_API_TOKEN: fake.token } });
    db = services.db;
    sync = services.get(JobSyncService);
    admin = await actorFor(services.module, services.adminKey);
  });
  afterAll(async () => {
    await services?.close();
    await fake?.stop();
  });

  it('syncs 1,000 active jobs with at most 10 list calls plus gets only for the ones absent from the pages', async () => {
    const oldNoise = new Date(Date.now() - 86_400_000).toISOString();
    for (let i = 0; i < 50; i++)
      fake.addPrediction({ status: 'succeeded', created_at: oldNoise, input: { other: true } });

    // Jobs were created 10 minutes ago; their predictions shortly after, oldest first.
    const created = Date.now() - 600_000;
    const expected = new Map<string, string>();
    const rows: unknown[][] = [];
    const plan = (i: number): { raw: string | null; unlisted?: boolean; ours: string } => {
      if (i < 10) return { raw: null, ours: 'failed' }; // deleted at the provider: 404 on get
      if (i < 20) return { raw: 'processing', unlisted: true, ours: 'running' };
      if (i < 420) return { raw: 'succeeded', ours: 'completed' };
      if (i < 720) return { raw: 'processing', ours: 'running' };
      if (i < 920) return { raw: 'starting', ours: 'queued' };
      if (i < 970) return { raw: 'failed', ours: 'failed' };
      return { raw: 'canceled', ours: 'cancelled' };
    };
    for (let i = 0; i < 1000; i++) {
      const jobId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const externalId = `pred${String(i).padStart(5, '0')}`;
      const p = plan(i);
      expected.set(jobId, p.ours);
      rows.push([jobId, externalId, new Date(created + i * 100).toISOString()]);
      if (p.raw === null) continue;
      const fp = fake.addPrediction({
        id: externalId,
        input: { job_id: jobId },
        created_at: new Date(created + i * 100 + 50).toISOString(),
        unlisted: p.unlisted,
      });
      if (p.raw !== 'starting') await fake.setStatus(fp.id, p.raw, { predictTime: 120 });
    }
    await db.query(
      `INSERT INTO jobs (job_id, user_id, org_id, provider, external_id, status, config_name, hardware_profile, priority, correlation_id, created_at)
       SELECT (r->>0)::uuid, $1, $2, 'replicate', r->>1, 'queued', 'bulk', 'h100-x2', 10, 'bulk-corr', (r->>2)::timestamptz
         FROM jsonb_array_elements($3::jsonb) AS r`,
      [admin.id, admin.orgId, JSON.stringify(rows)],
    );
    fake.requests.length = 0;

    const started = Date.now();
    const summary = await sync.syncActiveJobs(new Date());
    const elapsedMs = Date.now() - started;

    const listCalls = fake.count('GET', /^\/predictions$/);
    const getCalls = fake.count('GET', /^\/predictions\/[^/]+$/);
    expect(listCalls).toBeLessThanOrEqual(10);
    expect(getCalls).toBe(20);
    const gotIds = fake.requests
      .filter((r) => r.method === 'GET' && /^\/predictions\/[^/]+$/.test(r.path))
      .map((r) => r.path.split('/')[2])
      .sort();
    expect(gotIds).toEqual(Array.from({ length: 20 }, (_, i) => `pred${String(i).padStart(5, '0')}`));

    const statuses = await db.query<
      {
        job_id: string;
        status: string;
        cost_usd: string | null;
        error_message: string | null;
      }[]
    >(`SELECT job_id, status, cost_usd, error_message FROM jobs WHERE config_name = 'bulk'`);
    expect(statuses).toHaveLength(1000);
    const wrong = statuses.filter((s) => s.status !== expected.get(s.job_id));
    expect(wrong).toEqual([]);
    const completed = statuses.filter((s) => s.status === 'completed');
    expect(completed).toHaveLength(400);
    // cost = predict_time × the job's own profile rate (h100-x2 = 2 × 0.001525 $/s)
    for (const s of completed) expect(Number(s.cost_usd)).toBeCloseTo(120 * 0.00305, 6);
    const gone = statuses.find((s) => s.job_id.endsWith('000000000003'));
    expect(gone).toMatchObject({ status: 'failed', error_message: expect.stringContaining('no longer exists') });
    expect(summary).toMatchObject({ synced: 1000, failed: 0 });
    expect(summary.changed).toBe(1000 - 200); // the 200 still `starting` stay queued: no write

    // A second tick writes nothing and asks only for what is still active.
    fake.requests.length = 0;
    const again = await sync.syncActiveJobs(new Date());
    expect(again.changed).toBe(0);
    expect(again.synced).toBe(510); // 10 unlisted running + 300 running + 200 queued
    expect(fake.count('GET', /^\/predictions$/)).toBeLessThanOrEqual(10);

    logOutput(
      '[measure]',
      `[polling] 1000 jobs: ${listCalls} list calls, ${getCalls} gets, first tick ${elapsedMs} ms`,
    );
  });

  it('fails a job past max_runtime_seconds after cancelling its prediction', async () => {
    const p = fake.addPrediction({ input: {} });
    await fake.setStatus(p.id, 'processing');
    const [row] = await db.query<{ job_id: string }[]>(
      `INSERT INTO jobs (user_id, org_id, provider, external_id, status, config_name, hardware_profile, priority, correlation_id, max_runtime_seconds, created_at, started_at)
       VALUES ($1, $2, 'replicate', $3, 'running', 'slow', 'l40s', 10, 'slow-corr', 3600, now() - interval '2 hours', now() - interval '2 hours') RETURNING job_id`,
      [admin.id, admin.orgId, p.id],
    );
    const summary = await sync.syncActiveJobs(new Date());
    expect(summary.timedOut).toBe(1);
    expect(fake.count('POST', new RegExp(`^/predictions/${p.id}/cancel$`))).toBe(1);
    // What GET /api/cloud/jobs/:id shows.
    const job = await services.get(JobsService).get(admin, row.job_id);
    expect(job).toMatchObject({ status: 'failed', error_message: 'Exceeded max runtime' });
  });
});

/** Polling failures are visible at the default level: `Failed to sync job X` (WARNING), `Error in job polling` (ERROR). */
describe('job polling failures (PostgreSQL, fake Replicate)', () => {
  let services: ServiceModule;
  let fake: FakeReplicate;
  let db: DataSource;
  let admin: AuthenticatedUser;
  let logFile: string;

  beforeAll(async () => {
    fake = await startFakeReplicate();
    logFile = path.join(makeTempDir('st-poll-log-'), 'cloud.log');
    services = await startServiceModule({
      env: {
        REPLICATE_API_BASE: fake.url,
        REPLICATE_API_TOKEN: fake.token,
        SIMPLETUNER_LOG_LEVEL: 'INFO',
        SIMPLETUNER_LOG_FILE: logFile,
      },
    });
    db = services.db;
    admin = await actorFor(services.module, services.adminKey);
  });
  afterAll(async () => {
    await services?.close();
    await fake?.stop();
    if (logFile) fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
  });

  async function lines(): Promise<any[]> {
    await flushLogs();
    return fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }

  async function insertJob(externalId: string, corr: string): Promise<string> {
    const [row] = await db.query<{ job_id: string }[]>(
      `INSERT INTO jobs (user_id, org_id, provider, external_id, status, config_name, hardware_profile, priority, correlation_id)
       VALUES ($1, $2, 'replicate', $3, 'queued', 'err', 'l40s', 10, $4) RETURNING job_id`,
      [admin.id, admin.orgId, externalId, corr],
    );
    return row.job_id;
  }

  it("logs `Failed to sync job X` at WARNING under the job's correlation id and syncs the others", async () => {
    const ok = fake.addPrediction({ status: 'processing' });
    const hidden = fake.addPrediction({ status: 'processing', unlisted: true });
    const okJob = await insertJob(ok.id, 'corr-ok-1');
    const badJob = await insertJob(hidden.id, 'corr-bad-1');
    fake.failNext(3, 500, { method: 'GET', path: new RegExp(`^/predictions/${hidden.id}$`) });

    const summary = await services.get(JobSyncService).syncActiveJobs(new Date());
    expect(summary).toMatchObject({ synced: 1, failed: 1, changed: 1 });
    const statuses = await db.query(`SELECT job_id, status FROM jobs WHERE config_name = 'err' ORDER BY created_at`);
    expect(statuses).toEqual([
      { job_id: okJob, status: 'running' },
      { job_id: badJob, status: 'queued' },
    ]);
    const warn = (await lines()).find((l) => l.message === `Failed to sync job ${badJob}`);
    expect(warn).toMatchObject({
      level: 'WARNING',
      correlation_id: 'corr-bad-1',
      extra: { job_id: badJob, provider: 'replicate', step: 'poll' },
    });
  });

  it('logs `Error in job polling` at ERROR when the provider cannot be listed, and changes nothing', async () => {
    const p = fake.addPrediction({ status: 'succeeded' });
    const jobId = await insertJob(p.id, 'corr-list-1');
    fake.failNext(3, 500, { method: 'GET', path: /^\/predictions$/ });
    fake.failNext(3, 500, { method: 'GET', path: /^\/predictions\/.+/ });
    await services.get(JobSyncService).syncActiveJobs(new Date());
    expect((await db.query(`SELECT status FROM jobs WHERE job_id = $1`, [jobId]))[0].status).toBe('queued');
    const all = await lines();
    expect(all.find((l) => l.message === 'Error in job polling')).toMatchObject({
      level: 'ERROR',
      exception: { message: expect.stringContaining('500') },
    });
    expect(all.find((l) => l.message === `Failed to sync job ${jobId}`)).toMatchObject({
      level: 'WARNING',
      correlation_id: 'corr-list-1',
    });
    // Tokens never reach the log.
    expect(fs.readFileSync(logFile, 'utf8')).not.toContain(fake.token);
  });
});
