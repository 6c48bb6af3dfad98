import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { JobDispatchService } from '../../src/jobs/job-dispatch.service';
import { JobTransitionService } from '../../src/jobs/job-transition.service';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** The jobs module's own dispatch path (used when no queue hook claims a job) and the transition function's rules. */
describe('direct dispatch and the transition function (PostgreSQL)', () => {
  let app: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMULATOR_STEP_SECONDS: '600' } });
    db = app.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function pendingJob(config: Record<string, unknown> = {}): Promise<string> {
    const me = (await http(app.url, 'GET', '/api/users/me', { key: app.adminKey })).body;
    const [row] = (await db.query(
      `INSERT INTO jobs (user_id, org_id, provider, status, config_name, config, hardware_profile, priority, correlation_id)
       VALUES ($1, $2, 'simulator', 'pending', 'direct', $3, 'l40s', 10, 'direct-corr') RETURNING job_id`,
      [me.id, me.org_id, JSON.stringify(config)],
    )) as { job_id: string }[];
    return row.job_id;
  }
  const eventTypes = async (jobId: string) =>
    ((await db.query(`SELECT type, data FROM events WHERE job_id = $1 ORDER BY id`, [jobId])) as { type: string; data: any }[]);

  it('dispatches a pending job to its provider and records job_dispatched', async () => {
    const jobId = await pendingJob();
    await app.app.get(JobDispatchService).dispatch(jobId);
    const [job] = await db.query(`SELECT status, external_id, attempt FROM jobs WHERE job_id = $1`, [jobId]);
    expect(job).toMatchObject({ status: 'queued', external_id: expect.stringMatching(/^sim_/), attempt: 1 });
    const events = await eventTypes(jobId);
    expect(events.map((e) => e.type)).toEqual(['job_status_changed', 'job_dispatched']);
    expect(events[0].data).toMatchObject({ type: 'job_status_changed', job_id: jobId, status: 'queued', previous_status: 'pending' });
  });

  it('ignores backward and post-terminal updates and never emits for them', async () => {
    const jobId = await pendingJob();
    const t = app.app.get(JobTransitionService);
    expect((await t.transitionNow(jobId, 'running', { source: 'test' })).changed).toBe(true);
    expect((await t.transitionNow(jobId, 'queued', { source: 'test' })).changed).toBe(false);
    expect((await t.transitionNow(jobId, 'completed', { source: 'test' })).changed).toBe(true);
    expect((await t.transitionNow(jobId, 'failed', { source: 'test', patch: { errorMessage: 'late' } })).changed).toBe(false);
    const [job] = await db.query(`SELECT status, error_message, started_at, completed_at FROM jobs WHERE job_id = $1`, [jobId]);
    expect(job).toMatchObject({ status: 'completed', error_message: null, started_at: expect.any(Date), completed_at: expect.any(Date) });
    expect((await eventTypes(jobId)).map((e) => `${e.data.previous_status}->${e.data.status}`)).toEqual(['pending->running', 'running->completed']);
  });
});
