import type { AuthenticatedUser } from '../../src/auth';
import { AppError } from '../../src/common/errors';
import type { SubmitJobDto } from '../../src/jobs/jobs.dto';
import { SubmitPipeline } from '../../src/jobs/pipeline/submit.pipeline';
import { QuotasService } from '../../src/quotas';
import { UsageService } from '../../src/quotas/usage.service';
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
});
