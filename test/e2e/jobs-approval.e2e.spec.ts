import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** Submit and cancel as the approvals module sees them (default "First Job Review" rule). */
describe('jobs and approvals (PostgreSQL, simulator)', () => {
  let app: TestApp;
  let rita: string;
  let lead: string;

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMULATOR_STEP_SECONDS: '600' } });
    const org = (await http(app.url, 'POST', '/api/orgs', { key: app.adminKey, body: { name: 'lab' } })).body.id;
    const mk = async (username: string, level: string) => {
      const u = await http(app.url, 'POST', '/api/users', {
        key: app.adminKey,
        body: { username, level, org_id: org },
      });
      return (await http(app.url, 'POST', `/api/users/${u.body.id}/api-keys`, { key: app.adminKey, body: {} })).body
        .key as string;
    };
    rita = await mk('rita', 'researcher');
    lead = await mk('lena', 'lead');
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('returns requires_approval and approval_id for a first job, and cancelling it cancels the approval request', async () => {
    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: rita,
      body: { config_name: 'first', config: {} },
    });
    expect(submit.status).toBe(201);
    expect(submit.body).toMatchObject({
      status: 'pending',
      requires_approval: true,
      approval_id: expect.any(String),
      queue_position: null,
    });
    const job = await http(app.url, 'GET', `/api/cloud/jobs/${submit.body.job_id}`, { key: rita });
    expect(job.body).toMatchObject({
      requires_approval: true,
      approval_id: submit.body.approval_id,
      status: 'pending',
    });

    const cancel = await http(app.url, 'POST', `/api/cloud/jobs/${submit.body.job_id}/cancel`, { key: rita });
    expect(cancel.status).toBe(200);
    const request = await http(app.url, 'GET', `/api/approvals/requests/${submit.body.approval_id}`, { key: lead });
    expect(request.status).toBe(200);
    expect(request.body.status).toBe('cancelled');
  });
});
