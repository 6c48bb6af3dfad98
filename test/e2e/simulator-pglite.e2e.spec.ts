import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** The core jobs flow on the embedded default database (pool of one: no transaction may wait on another). */
describe('simulator end to end (PGlite, the embedded default)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite', env: { SIMULATOR_STEP_SECONDS: '1', SIMPLETUNER_QUEUE_INTERVAL: '1' } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('submits, repeats an idempotency key, and completes', async () => {
    const body = { config_name: 'pg', config: { a: 1 }, idempotency_key: 'k1' };
    const [a, b] = await Promise.all([
      http(app.url, 'POST', '/api/cloud/jobs/submit', { key: app.adminKey, body }),
      http(app.url, 'POST', '/api/cloud/jobs/submit', { key: app.adminKey, body }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body.job_id).toBe(b.body.job_id);
    let job = a.body;
    for (let i = 0; i < 100 && job.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      job = (await http(app.url, 'GET', `/api/cloud/jobs/${a.body.job_id}`, { key: app.adminKey })).body;
    }
    expect(job).toMatchObject({ status: 'completed', provider: 'simulator' });
    expect((await http(app.url, 'GET', '/api/cloud/jobs', { key: app.adminKey })).body.total).toBe(1);
  });
});
