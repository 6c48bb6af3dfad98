import * as fs from 'node:fs';
import * as path from 'node:path';
import { TaskState } from '../../src/scheduling';
import { EnterpriseExampleModule } from '../support/enterprise-example/enterprise-example.module';
import { http } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Acceptance 7: an enterprise module adds its tasks without editing src/. PostgreSQL here: PGlite boots in 3-20 s
 * on this shared machine; the same file passed with `db: 'pglite'` (the lease SQL runs there unchanged).
 */
describe('an enterprise module adding its own background tasks', () => {
  let app: TestApp;
  let dir: string;

  beforeAll(async () => {
    dir = makeTempDir('st-enterprise-');
    const file = path.join(dir, 'enterprise.yaml');
    fs.writeFileSync(file, 'enterprise_example:\n  license_check_interval_seconds: 0.3\n');
    app = await startTestApp({ imports: [EnterpriseExampleModule], env: { SIMPLETUNER_ENTERPRISE_CONFIG: file } });
    await sleep(1300);
  });
  afterAll(async () => {
    await app?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists its decorator task and its config-driven leader task next to the core ones, and runs both', async () => {
    const res = await http(app.url, 'GET', '/api/cloud/background-tasks', { key: app.adminKey });
    expect(res.status).toBe(200);
    const byName = Object.fromEntries((res.body.tasks as TaskState[]).map((t) => [t.name, t]));
    expect(byName.enterprise_usage_report).toMatchObject({
      kind: 'declared',
      schedule: 'every 0.2s',
      enabled: true,
      failures: 0,
    });
    expect(byName.enterprise_usage_report.runs).toBeGreaterThanOrEqual(3);
    expect(byName.enterprise_license_check).toMatchObject({ interval_seconds: 0.3, leader: true, failures: 0 });
    // With one instance the lease is won every interval.
    expect(byName.enterprise_license_check.runs).toBeGreaterThanOrEqual(2);
    expect(byName.enterprise_license_check.not_leader).toBe(0);
  });

  it('does its work: the report counts real users, and its own route and gauge show it', async () => {
    const res = await http(app.url, 'GET', '/api/enterprise/usage-report', { key: app.adminKey });
    expect(res.status).toBe(200);
    expect(res.body.report.users).toBe(1); // the bootstrap admin
    expect(res.body.license_checks).toBeGreaterThanOrEqual(2);
    const metrics = await http(app.url, 'GET', '/metrics');
    expect(metrics.text).toMatch(/^simpletuner_enterprise_users 1$/m);
    expect(metrics.text).toMatch(
      /^simpletuner_background_task_runs_total\{task="enterprise_usage_report",outcome="success"\} [1-9]\d*$/m,
    );
  });
});
