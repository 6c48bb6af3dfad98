import { DataSource } from 'typeorm';
import { Actor, EXPENSIVE, makeOrg, makeUser, setRuleActive, submit } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** The core approval flows on the embedded default (PGlite), with the expiry tick scheduled every second. */
describe('approvals on PGlite with the expiry task running', () => {
  let app: TestApp;
  let db: DataSource;
  let lead: Actor;
  let rita: Actor;

  beforeAll(async () => {
    app = await startTestApp({
      db: 'pglite',
      env: { SIMULATOR_STEP_SECONDS: '600', SIMPLETUNER_APPROVAL_CHECK_INTERVAL: '1' },
    });
    db = app.app.get(DataSource);
    const org = await makeOrg(app, 'lab');
    lead = await makeUser(app, 'lead', 'lead', org);
    rita = await makeUser(app, 'rita', 'researcher', org);
    await setRuleActive(app, 'First Job Review', false);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('registers approval_expiration with the configured interval', async () => {
    const res = await http(app.url, 'GET', '/api/cloud/background-tasks', { key: app.adminKey });
    expect(res.status).toBe(200);
    const tasks = Array.isArray(res.body) ? res.body : res.body.tasks;
    expect(tasks.find((t: any) => t.name === 'approval_expiration')).toMatchObject({
      interval_seconds: 1,
      enabled: true,
    });
  });

  it('approves, then dispatches on the next tick; a second approval is 409', async () => {
    const sub = await submit(app, rita.key, EXPENSIVE);
    expect(sub.body).toMatchObject({ status: 'pending', requires_approval: true });
    const ok = await http(app.url, 'POST', `/api/approvals/requests/${sub.body.approval_id}/approve`, {
      key: lead.key,
      body: {},
    });
    expect(ok.status).toBe(200);
    await http(app.url, 'POST', '/api/queue/process', { key: app.adminKey });
    const job = await http(app.url, 'GET', `/api/cloud/jobs/${sub.body.job_id}`, { key: rita.key });
    expect(['queued', 'running']).toContain(job.body.status);
    expect(
      (
        await http(app.url, 'POST', `/api/approvals/requests/${sub.body.approval_id}/approve`, {
          key: lead.key,
          body: {},
        })
      ).status,
    ).toBe(409);
  });

  it('the scheduled tick expires a request past its deadline and cancels its job, without being called', async () => {
    const sub = await submit(app, rita.key, EXPENSIVE);
    await db.query(
      `UPDATE approval_requests SET created_at = created_at - interval '25 hours', expires_at = expires_at - interval '25 hours'
        WHERE id = $1`,
      [sub.body.approval_id],
    );
    let job: any;
    for (let i = 0; i < 60; i++) {
      job = (await http(app.url, 'GET', `/api/cloud/jobs/${sub.body.job_id}`, { key: rita.key })).body;
      if (job.status !== 'pending') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(job).toMatchObject({ status: 'cancelled', error_message: 'Approval request expired after 24 hours' });
    const req = await http(app.url, 'GET', `/api/approvals/requests/${sub.body.approval_id}`, { key: rita.key });
    expect(req.body.status).toBe('expired');
    const events = await db.query(`SELECT data FROM events WHERE job_id = $1 AND type = 'approval_expired'`, [
      sub.body.job_id,
    ]);
    expect(events).toHaveLength(1);
  });
});
