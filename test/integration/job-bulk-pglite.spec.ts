import { Injectable, Module } from '@nestjs/common';
import type { AuthenticatedUser } from '../../src/auth';
import type { EndedJob, JobEndedStep } from '../../src/jobs';
import { JobBulkService } from '../../src/jobs/job-bulk.service';
import { JobRetryService } from '../../src/jobs/job-retry.service';
import { SubmitPipeline } from '../../src/jobs/pipeline/submit.pipeline';
import { actorFor, createActor, createOrg, setRuleActive } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';

/** An embedding app's job-ended step that fails for one job: the end of that job, and only it, rolls back. */
@Injectable()
class RefuseToEnd implements JobEndedStep {
  onJobsEnded(ended: EndedJob[]): Promise<void> {
    if (ended.some(({ job }) => job.configName === 'unstoppable')) throw new Error('this job cannot end');
    return Promise.resolve();
  }
}

@Module({ providers: [RefuseToEnd], exports: [RefuseToEnd] })
class RefuseToEndModule {}

/**
 * Bulk actions on the embedded database (PGlite, one connection): a chunk whose transaction fails is redone job by
 * job, so the one job that cannot change fails alone; a retry links the new job to the old.
 */
describe('bulk job actions (PGlite)', () => {
  let services: ServiceModule;
  let rita: AuthenticatedUser;

  const submit = async (name: string) =>
    (await services.get(SubmitPipeline).submit(rita, { config_name: name, config: {} })).body.job_id;
  const statusOf = async (jobId: string) =>
    (await services.db.query<{ status: string }[]>(`SELECT status FROM jobs WHERE job_id = $1`, [jobId]))[0]?.status;

  beforeAll(async () => {
    services = await startServiceModule({ db: 'pglite', imports: [RefuseToEndModule], jobEndedSteps: [RefuseToEnd] });
    const admin = await actorFor(services.module, services.adminKey);
    await setRuleActive(services.module, admin, 'First Job Review', false);
    rita = await createActor(
      services.module,
      admin,
      'pgl-rita',
      'researcher',
      await createOrg(services.module, admin, 'pgl-ops'),
    );
  });
  afterAll(async () => {
    await services?.close();
  });

  it('cancels every job but the one whose end fails, which alone reports the failure', async () => {
    const ids = [await submit('a'), await submit('unstoppable'), await submit('b'), await submit('c')];
    const results = await services.get(JobBulkService).run(rita, 'cancel', ids);
    expect(results.map((r) => [r.job_id, r.ok])).toEqual([
      [ids[0], true],
      [ids[1], false],
      [ids[2], true],
      [ids[3], true],
    ]);
    expect(results[1].error).toEqual({ code: 'internal_error', message: 'Internal error' });
    expect(await Promise.all(ids.map(statusOf))).toEqual(['cancelled', 'pending', 'cancelled', 'cancelled']);
    const audited = await services.db.query(
      `SELECT target_id FROM audit_log WHERE action = 'job.cancel' AND target_id = ANY($1) ORDER BY target_id`,
      [ids],
    );
    expect(audited.map((r: { target_id: string }) => r.target_id)).toEqual([ids[0], ids[2], ids[3]].sort());
  });

  it('retries a cancelled job as a new one that names it, and deletes the old one in bulk', async () => {
    const old = await submit('again');
    await services.get(JobBulkService).run(rita, 'cancel', [old]);
    const retried = await services.get(JobRetryService).retry(rita, old, undefined);
    expect(retried).toMatchObject({ created: true, body: { retry_of: old, status: 'pending' } });
    const [deleted] = await services.get(JobBulkService).run(rita, 'delete', [old]);
    expect(deleted).toEqual({ job_id: old, ok: true });
    const [row] = await services.db.query(`SELECT retry_of FROM jobs WHERE job_id = $1`, [retried.body.job_id]);
    expect(row).toEqual({ retry_of: null });
  });
});
