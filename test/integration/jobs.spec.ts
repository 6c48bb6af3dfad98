import type { DataSource } from 'typeorm';
import type { AuthenticatedUser } from '../../src/auth';
import { JobTransitionService } from '../../src/jobs';
import { actorFor } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';

/**
 * The jobs tables on the app's services: the transition function's rules, one job and a batch at a time, and the
 * entities against the migrated schema.
 */
describe('jobs tables: the transition function and the schema (PostgreSQL)', () => {
  let services: ServiceModule;
  let db: DataSource;
  let admin: AuthenticatedUser;

  beforeAll(async () => {
    services = await startServiceModule();
    db = services.db;
    admin = await actorFor(services.module, services.adminKey);
  });
  afterAll(async () => {
    await services?.close();
  });

  async function pendingJob(config: Record<string, unknown> = {}): Promise<string> {
    const [row] = await db.query<{ job_id: string }[]>(
      `INSERT INTO jobs (user_id, org_id, provider, status, config_name, config, hardware_profile, priority, correlation_id)
       VALUES ($1, $2, 'simulator', 'pending', 'direct', $3, 'l40s', 10, 'direct-corr') RETURNING job_id`,
      [admin.id, admin.orgId, JSON.stringify(config)],
    );
    return row.job_id;
  }
  const eventTypes = async (jobId: string) =>
    await db.query<{ type: string; data: any }[]>(`SELECT type, data FROM events WHERE job_id = $1 ORDER BY id`, [
      jobId,
    ]);

  it('ignores backward and post-terminal updates and never emits for them', async () => {
    const jobId = await pendingJob();
    const t = services.get(JobTransitionService);
    expect((await t.transition(jobId, 'running', { source: 'test' })).changed).toBe(true);
    expect((await t.transition(jobId, 'queued', { source: 'test' })).changed).toBe(false);
    expect((await t.transition(jobId, 'completed', { source: 'test' })).changed).toBe(true);
    expect((await t.transition(jobId, 'failed', { source: 'test', patch: { errorMessage: 'late' } })).changed).toBe(
      false,
    );
    const [job] = await db.query(`SELECT status, error_message, started_at, completed_at FROM jobs WHERE job_id = $1`, [
      jobId,
    ]);
    expect(job).toMatchObject({
      status: 'completed',
      error_message: null,
      started_at: expect.any(Date),
      completed_at: expect.any(Date),
    });
    expect((await eventTypes(jobId)).map((e) => `${e.data.previous_status}->${e.data.status}`)).toEqual([
      'pending->running',
      'running->completed',
    ]);
  });

  it('a batch transition gives each job the outcome one call per job would, with one event per change', async () => {
    const t = services.get(JobTransitionService);
    const [forward, stale, samePatch, finishing, done] = await Promise.all([
      pendingJob(),
      pendingJob(),
      pendingJob(),
      pendingJob(),
      pendingJob(),
    ]);
    await t.transition(stale, 'running', { source: 'test' });
    await t.transition(samePatch, 'queued', { source: 'test' });
    await t.transition(done, 'cancelled', { source: 'test' });
    const before = Number((await db.query(`SELECT count(*) AS n FROM events`))[0].n);
    const now = new Date('2026-11-28T12:00:00Z');
    const results = await t.transitionMany(
      [
        { jobId: forward, to: 'running', patch: { externalId: 'ext-forward', attempt: 1 } },
        { jobId: stale, to: 'queued', patch: { externalId: 'ext-stale' } },
        { jobId: samePatch, to: 'queued', patch: { outputUrl: 'https://example.test/out' } },
        { jobId: finishing, to: 'failed', patch: { errorMessage: 'boom' } },
        { jobId: done, to: 'completed' },
      ],
      { source: 'test', now },
    );
    expect(results.map((r) => [r.changed, r.previous, r.job.status])).toEqual([
      [true, 'pending', 'running'],
      [false, 'running', 'running'],
      [false, 'queued', 'queued'],
      [true, 'pending', 'failed'],
      [false, 'cancelled', 'cancelled'],
    ]);
    const rows = await db.query<Record<string, any>[]>(
      `SELECT job_id, status, external_id, attempt, output_url, error_message, started_at, completed_at FROM jobs WHERE job_id = ANY($1::uuid[])`,
      [[forward, stale, samePatch, finishing, done]],
    );
    const row = (id: string) => rows.find((r) => r.job_id === id)!;
    expect(row(forward)).toMatchObject({ status: 'running', external_id: 'ext-forward', attempt: 1, started_at: now });
    expect(row(stale)).toMatchObject({ status: 'running', external_id: null });
    expect(row(samePatch)).toMatchObject({ status: 'queued', output_url: 'https://example.test/out' });
    expect(row(finishing)).toMatchObject({ status: 'failed', error_message: 'boom', completed_at: now });
    expect(row(done).status).toBe('cancelled');
    const events = await db.query<
      {
        type: string;
        job_id: string;
        data: any;
      }[]
    >(`SELECT type, job_id, data FROM events WHERE id > $1 ORDER BY id`, [before]);
    expect(events.map((e) => [e.type, e.job_id, e.data.status ?? null])).toEqual([
      ['job_status_changed', forward, 'running'],
      ['job_status_changed', finishing, 'failed'],
    ]);
  });

  /**
   * The Job and ProviderConfig entities mirror migration 1764300003000, and Org its later soft delete:
   * `migration:generate` finds nothing for them.
   */
  it('has no schema difference between the jobs and organisation entities and the migrated database', async () => {
    const log = await db.driver.createSchemaBuilder().log();
    const mine = log.upQueries
      .map((q) => q.query)
      .filter((q) => /"jobs"|"jobs_|"provider_configs"|"orgs"|"orgs_/.test(q));
    expect(mine).toEqual([]);
  });

  it('a batch naming an unknown job, or one job twice, changes nothing', async () => {
    const t = services.get(JobTransitionService);
    const jobId = await pendingJob();
    await expect(
      t.transitionMany(
        [
          { jobId, to: 'running' },
          { jobId: '00000000-0000-4000-8000-000000000000', to: 'running' },
        ],
        { source: 'test' },
      ),
    ).rejects.toThrow(/00000000-0000-4000-8000-000000000000/);
    await expect(
      t.transitionMany(
        [
          { jobId, to: 'running' },
          { jobId, to: 'queued' },
        ],
        { source: 'test' },
      ),
    ).rejects.toThrow(/twice/);
    expect((await db.query(`SELECT status FROM jobs WHERE job_id = $1`, [jobId]))[0].status).toBe('pending');
  });
});
