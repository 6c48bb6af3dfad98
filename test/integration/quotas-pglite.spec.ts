import type { AuthenticatedUser } from '../../src/auth';
import { AppError } from '../../src/common/errors';
import type { SubmitJobDto } from '../../src/jobs/jobs.dto';
import { SubmitPipeline } from '../../src/jobs/pipeline/submit.pipeline';
import { QuotasService } from '../../src/quotas';
import { UsageService } from '../../src/quotas/usage.service';
import { QueueQueryService } from '../../src/queue/queue-query.service';
import { QueueService } from '../../src/queue/queue.service';
import { actorFor, createActor, createOrg } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';

/**
 * The embedded database (PGlite, one connection): the quotas' migration, the guarded and the locked write paths,
 * and the usage report.
 */
describe('quotas (PGlite)', () => {
  let services: ServiceModule;
  let admin: AuthenticatedUser;
  let lead: AuthenticatedUser;

  beforeAll(async () => {
    services = await startServiceModule({ db: 'pglite' });
    admin = await actorFor(services.module, services.adminKey);
    lead = await createActor(services.module, admin, 'pg-lead', 'lead', await createOrg(services.module, admin, 'pgl'));
  });
  afterAll(async () => {
    await services?.close();
  });

  it('holds a block quota exactly under concurrent submits, warns, and reports usage', async () => {
    const quotas = services.get(QuotasService);
    await quotas.create(admin, { scope: 'user', scope_id: lead.id, type: 'jobs_per_day', limit: 3, action: 'block' });
    const warn = await quotas.create(admin, {
      scope: 'global',
      type: 'jobs_per_hour',
      limit: 2,
      action: 'warn',
    });
    const pipe = services.get(SubmitPipeline);
    const dto = { config_name: 'p', config: {}, provider: 'simulator' } as SubmitJobDto;
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        pipe.submit(lead, dto).then(
          (r) => r,
          (err: unknown) => {
            if (err instanceof AppError) return err;
            throw err;
          },
        ),
      ),
    );
    const accepted = results.filter((r) => !(r instanceof AppError));
    expect(accepted).toHaveLength(3);
    expect(results.filter((r) => r instanceof AppError).map((e) => e.code)).toEqual(Array(3).fill('quota_exceeded'));
    // The third accepted job passed the warn quota of two an hour.
    const warned = accepted.filter((r) => 'body' in r && r.body.warnings);
    expect(warned.map((r) => ('body' in r ? r.body.warnings : null))).toEqual([
      [{ quota_id: warn.id, type: 'jobs_per_hour', limit: 2, used: 3 }],
    ]);
    const report = await services.get(UsageService).report(lead, { group_by: 'user' });
    expect(report.totals.jobs).toBe(3);
    expect(report.rows).toEqual([expect.objectContaining({ key: lead.id, label: 'pg-lead', jobs: 3 })]);
  });

  it('holds a concurrent_jobs quota and a spent budget at dispatch', async () => {
    const quotas = services.get(QuotasService);
    const queue = services.get(QueueService);
    const position = (id: string) => services.get(QueueQueryService).position(admin, id);
    const org = await createOrg(services.module, admin, 'pgl-dispatch');
    const lena = await createActor(services.module, admin, 'pg-lena', 'lead', org);
    await quotas.create(admin, {
      scope: 'user',
      scope_id: lena.id,
      type: 'concurrent_jobs',
      limit: 1,
      action: 'block',
    });
    const pipe = services.get(SubmitPipeline);
    const dto = { config_name: 'd', config: {}, provider: 'simulator' } as SubmitJobDto;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await pipe.submit(lena, dto)).body.job_id);
    await queue.processTick(new Date());
    await queue.processTick(new Date());
    const states = await Promise.all(ids.map(position));
    expect(states.filter((p) => p.status === 'pending').map((p) => p.blocked_reason)).toEqual([
      'quota_limit',
      'quota_limit',
    ]);

    // A budget the org's running job already fills: the next entries wait on it instead.
    const [{ estimate }] = await services.db.query(
      `SELECT cost_estimate::float8 AS estimate FROM jobs WHERE job_id = $1`,
      [ids[0]],
    );
    await quotas.create(admin, {
      scope: 'org',
      scope_id: org,
      type: 'cost_daily',
      limit: 1.5 * estimate,
      action: 'block',
    });
    const waiting = states.filter((p) => p.status === 'pending').map((p) => p.job_id);
    for (const q of (await quotas.list(admin)).filter((x) => x.type === 'concurrent_jobs'))
      await quotas.remove(admin, q.id);
    expect((await queue.processTick(new Date())).claimed).toBe(0);
    expect((await position(waiting[0])).blocked_reason).toBe('budget_exhausted');
  });
});
