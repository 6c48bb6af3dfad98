import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHARGEBACK_CLOSE_TASK } from '../../examples/enterprise-module/chargeback.scheduler';
import { OnpremEnterpriseModule } from '../../examples/enterprise-module/enterprise.module';
import { ChargebackService } from '../../examples/enterprise-module/chargeback.service';
import { BackgroundTaskManager, TaskState } from '../../src/scheduling';
import { makeOrg, makeUser, setRuleActive } from '../support/approval-fixtures';
import { http } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

/** examples/enterprise-module: each extension point, used the way an enterprise build uses it. */
describe('the enterprise module example', () => {
  let app: TestApp;

  beforeAll(async () => {
    const dir = makeTempDir('st-enterprise-example-');
    const file = path.join(dir, 'enterprise.yaml');
    fs.writeFileSync(file, 'onprem:\n  run_seconds: 0.2\n  chargeback_rate: 2\n');
    app = await startTestApp({
      imports: [OnpremEnterpriseModule],
      jobEndedSteps: [ChargebackService],
      env: { SIMPLETUNER_ENTERPRISE_CONFIG: file, SIMPLETUNER_JOB_POLL_INTERVAL: '1' },
    });
    await setRuleActive(app, 'First Job Review', false);
  });
  afterAll(() => app?.stop());

  it('runs a job on its own provider, and its terminal hook charges the cost at the rate from the enterprise file', async () => {
    const org = await makeOrg(app, 'onprem-org');
    const researcher = await makeUser(app, 'onprem-researcher', 'researcher', org);
    const submitted = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: researcher.key,
      body: { config_name: 'onprem-run', config: {}, hardware_profile: 'l40s', provider: 'onprem' },
    });
    expect(submitted.status).toBe(201);
    const jobId = submitted.body.job_id;

    let job = (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: researcher.key })).body;
    const deadline = Date.now() + 15_000;
    while (job.status !== 'completed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      job = (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: researcher.key })).body;
    }
    expect(job).toMatchObject({ status: 'completed', provider: 'onprem', external_id: `onprem-${jobId}` });

    const lead = await makeUser(app, 'onprem-lead', 'lead', org);
    const report = await http(app.url, 'GET', '/api/enterprise/chargeback', { key: lead.key });
    expect(report.status).toBe(200);
    expect(Number(job.cost_usd)).toBeGreaterThan(0);
    expect(report.body.totals[org]).toEqual({ jobs: 1, usd: Number(job.cost_usd) * 2 }); // chargeback_rate: 2
  });

  it('guards its route with the minimum level like core routes: 401 without a key, 403 below lead', async () => {
    const org = await makeOrg(app, 'onprem-org-2');
    const researcher = await makeUser(app, 'onprem-researcher-2', 'researcher', org);
    expect((await http(app.url, 'GET', '/api/enterprise/chargeback')).status).toBe(401);
    const refused = await http(app.url, 'GET', '/api/enterprise/chargeback', { key: researcher.key });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('permission_denied');
  });

  it('closes the chargeback month with its own scheduled task, listed and run like a core one', async () => {
    // The first test's job left a total to close.
    const lead = await makeUser(app, 'onprem-lead-close', 'lead', await makeOrg(app, 'onprem-org-3'));
    const before = await http(app.url, 'GET', '/api/enterprise/chargeback', { key: lead.key });
    expect(Object.keys(before.body.totals).length).toBeGreaterThan(0);
    const listed = (await http(app.url, 'GET', '/api/cloud/background-tasks', { key: app.adminKey })).body
      .tasks as TaskState[];
    expect(listed.find((t) => t.name === CHARGEBACK_CLOSE_TASK)).toMatchObject({
      kind: 'declared',
      schedule: 'cron 5 0 1 * * (UTC)',
      enabled: true,
      leader: false,
      runs: 0,
    });
    // The first of the month is far away: run one tick now, through the same wrapper the schedule uses.
    await app.app.get(BackgroundTaskManager).runTick(CHARGEBACK_CLOSE_TASK);
    const after = await http(app.url, 'GET', '/api/enterprise/chargeback', { key: lead.key });
    expect(after.body.totals).toEqual({});
    expect(app.app.get(BackgroundTaskManager).getState(CHARGEBACK_CLOSE_TASK)).toMatchObject({ runs: 1, failures: 0 });
  });
});
