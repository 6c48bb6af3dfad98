import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DataSource } from 'typeorm';
import type { AuthenticatedUser } from '../../src/auth';
import { JobSyncService } from '../../src/jobs/job-sync.service';
import { flushLogs } from '../../src/logging';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { actorFor } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';
import { makeTempDir } from '../support/test-config';

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
