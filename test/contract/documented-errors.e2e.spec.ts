import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { EventHub } from '../../src/events';
import { signWebhook } from '../../src/common/standard-webhooks';
import { Actor, makeUser, submit } from '../support/approval-fixtures';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

/**
 * Route-specific answers the document promises that the feature tests do not otherwise produce: each documented
 * (route, status) must be exercised by some test or listed, with its reason, in unreachable-statuses.js.
 */
describe('documented answers of single routes', () => {
  let fake: FakeReplicate;
  let app: TestApp;
  let dashboardDir: string;
  let orgId: string;
  let adminId: string;
  let lead: Actor;
  let researcher: Actor;
  const random = () => randomUUID();

  beforeAll(async () => {
    dashboardDir = makeTempDir('st-contract-dashboard-');
    fs.mkdirSync(path.join(dashboardDir, 'assets'));
    fs.writeFileSync(path.join(dashboardDir, 'index.html'), '<!doctype html><script src="/dashboard/assets/a.js">');
    fs.writeFileSync(path.join(dashboardDir, 'assets', 'a.js'), 'void 0;');
    fake = await startFakeReplicate();
    app = await startTestApp({
      env: {
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
        SIMPLETUNER_DASHBOARD_DIR: dashboardDir,
        REPLICATE_API_TOKEN: fake.token,
        REPLICATE_API_BASE: fake.url,
      },
    });
    const me = (await http(app.url, 'GET', '/api/users/me', { key: app.adminKey })).body;
    [orgId, adminId] = [me.org_id, me.id];
    lead = await makeUser(app, 'contract_lead', 'lead', orgId);
    researcher = await makeUser(app, 'contract_researcher', 'researcher', orgId);
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
    fs.rmSync(dashboardDir, { recursive: true, force: true });
  });

  const as = (key: string) => ({
    call: (method: string, route: string, body?: unknown) => http(app.url, method, route, { key, body }),
  });

  it('users, organisations and keys: taken names, unknown ids, a lead over an admin', async () => {
    const admin = as(app.adminKey);
    expect((await admin.call('POST', '/api/users', { username: 'contract_lead', level: 'viewer' })).body.error).toBe(
      'conflict',
    );
    expect((await admin.call('POST', '/api/orgs', { name: 'default' })).status).toBe(409);
    const patched = await admin.call('PATCH', `/api/users/${researcher.id}`, { email: 'r@example.com' });
    expect([patched.status, patched.body.email]).toEqual([200, 'r@example.com']);
    expect((await admin.call('PATCH', `/api/users/${random()}`, { email: null })).status).toBe(404);

    expect((await as(lead.key).call('POST', `/api/users/${adminId}/api-keys`, {})).status).toBe(403);
    expect((await as(lead.key).call('GET', `/api/users/${adminId}/api-keys`)).status).toBe(403);
    expect((await admin.call('POST', `/api/users/${random()}/api-keys`, {})).status).toBe(404);
    const adminKeyId = (await admin.call('POST', `/api/users/${adminId}/api-keys`, { name: 'spare' })).body.id;
    expect((await as(lead.key).call('DELETE', `/api/api-keys/${adminKeyId}`)).status).toBe(403);
    expect((await admin.call('DELETE', `/api/api-keys/${random()}`)).status).toBe(404);
    const revoked = await admin.call('DELETE', `/api/api-keys/${adminKeyId}`);
    expect([revoked.status, typeof revoked.body.revoked_at]).toEqual([200, 'string']);
  });

  it('jobs, providers and the queue: unknown ids and names, a job no longer waiting', async () => {
    const admin = as(app.adminKey);
    expect((await admin.call('DELETE', `/api/cloud/jobs/${random()}`)).body.error).toBe('job_not_found');
    expect((await admin.call('PUT', '/api/cloud/providers/nope/config', {})).status).toBe(404);
    const job = (await submit(app, app.adminKey, { provider: 'simulator', config: {} })).body.job_id;
    expect((await admin.call('POST', `/api/cloud/jobs/${job}/cancel`)).status).toBe(200);
    const late = await admin.call('POST', `/api/queue/${job}/priority`, { priority: 40 });
    expect([late.status, late.body.error]).toEqual([409, 'conflict']);
  });

  it("approvals: deciding one's own request, unknown requests and rules", async () => {
    // A researcher's first job is held for a lead ("First Job Review").
    const held = await submit(app, researcher.key, { provider: 'simulator', config: {} });
    expect(held.body.requires_approval).toBe(true);
    const own = await as(researcher.key).call('POST', `/api/approvals/requests/${held.body.approval_id}/reject`, {
      reason: 'no',
    });
    expect([own.status, own.body.error]).toEqual([403, 'permission_denied']);
    const request = `/api/approvals/requests/${held.body.approval_id}`;
    // Only the requester withdraws a request; the lead who may decide it may not.
    expect((await as(lead.key).call('POST', `${request}/cancel`)).status).toBe(403);
    expect((await as(lead.key).call('POST', `${request}/reject`, { reason: 'not now' })).status).toBe(200);
    const again = await as(lead.key).call('POST', `${request}/reject`, { reason: 'twice' });
    expect([again.status, again.body.error]).toEqual([409, 'conflict']);
    const admin = as(app.adminKey);
    expect((await admin.call('POST', `/api/approvals/requests/${random()}/reject`, { reason: 'x' })).status).toBe(404);
    expect((await admin.call('POST', `/api/approvals/requests/${random()}/cancel`)).status).toBe(404);
    expect((await admin.call('DELETE', `/api/approvals/rules/${random()}`)).status).toBe(404);
  });

  it('the dashboard: an unchanged asset, and a missing build', async () => {
    const asset = await http(app.url, 'GET', '/dashboard/assets/a.js');
    const etag = asset.headers.get('etag')!;
    expect((await http(app.url, 'GET', '/dashboard/assets/a.js', { headers: { 'If-None-Match': etag } })).status).toBe(
      304,
    );
    const unbuilt = await startTestApp({
      env: { SIMPLETUNER_QUEUE_INTERVAL: '3600', SIMPLETUNER_DASHBOARD_DIR: makeTempDir('st-no-dashboard-') },
    });
    try {
      const res = await http(unbuilt.url, 'GET', '/dashboard/assets/a.js');
      expect([res.status, res.body.error]).toEqual([503, 'dashboard_not_built']);
    } finally {
      await unbuilt.stop();
    }
  });

  it('the webhook: a signed body that is not JSON', async () => {
    const body = 'not json';
    const id = 'msg_contract_1';
    const ts = Math.floor(Date.now() / 1000);
    const res = await http(app.url, 'POST', '/api/webhooks/replicate', {
      rawBody: body,
      headers: {
        'Content-Type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signWebhook(fake.webhookSecret, id, ts, body),
      },
    });
    expect([res.status, res.body.error]).toEqual([400, 'validation_error']);
  });

  it("the event stream and a job's log stream while the service shuts down", async () => {
    const job = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { config_name: 'shutting-down', config: {}, provider: 'simulator' },
    });
    expect(job.status).toBe(201);
    // The moment between the event hub stopping (first step of shutdown) and the HTTP server closing.
    app.app.get(EventHub).stop();
    const res = await http(app.url, 'GET', '/api/events', { key: app.adminKey });
    expect([res.status, res.body.error]).toEqual([503, 'service_unavailable']);
    const logs = await http(app.url, 'GET', `/api/cloud/jobs/${job.body.job_id}/logs/stream`, { key: app.adminKey });
    expect([logs.status, logs.body.error]).toEqual([503, 'service_unavailable']);
  });
});
