import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnpremEnterpriseModule } from '../../examples/enterprise-module/enterprise.module';
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
});
