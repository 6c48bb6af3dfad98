import { randomBytes } from 'node:crypto';
import { AuditService } from '../../src/audit';
import { EXPENSIVE, makeOrg, makeUser, setRuleActive, submit } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** Every change to users, keys, rules, decisions, limits and provider settings leaves an audit row. */
describe('audit trail', () => {
  let app: TestApp;
  let orgA: string;
  let orgB: string;

  beforeAll(async () => {
    // A secret key: the provider's webhook secret below is stored encrypted.
    app = await startTestApp({
      env: { SIMPLETUNER_QUEUE_INTERVAL: '3600', SIMPLETUNER_SECRET_KEY: randomBytes(32).toString('base64') },
    });
    orgA = await makeOrg(app, 'audit-a');
    orgB = await makeOrg(app, 'audit-b');
  });
  afterAll(() => app?.stop());

  const audit = async (key: string, query = '') => {
    const res = await http(app.url, 'GET', `/api/audit${query}`, { key });
    expect(res.status).toBe(200);
    return res.body as { entries: any[]; total: number };
  };

  it('records each kind of change, with actor, target, before/after and the correlation id', async () => {
    const admin = app.adminKey;
    const lead = await makeUser(app, 'audit-lead', 'lead', orgA);
    const rita = await makeUser(app, 'audit-rita', 'researcher', orgA);
    await http(app.url, 'PATCH', `/api/users/${rita.id}`, { key: lead.key, body: { email: 'rita@example.com' } });
    const keys = await http(app.url, 'GET', `/api/users/${rita.id}/api-keys`, { key: admin });
    await http(app.url, 'DELETE', `/api/api-keys/${keys.body.api_keys[0].id}`, {
      key: admin,
      headers: { 'X-Correlation-ID': 'audit-revoke-1' },
    });
    const rule = await http(app.url, 'POST', '/api/approvals/rules', {
      key: admin,
      body: { name: 'audit rule', condition: 'cost_exceeds', threshold: 5000 },
    });
    await http(app.url, 'PATCH', `/api/approvals/rules/${rule.body.id}`, { key: admin, body: { threshold: 6000 } });
    await http(app.url, 'DELETE', `/api/approvals/rules/${rule.body.id}`, { key: admin });
    await setRuleActive(app, 'First Job Review', false);
    const held = await submit(app, lead.key, EXPENSIVE);
    await http(app.url, 'POST', `/api/approvals/requests/${held.body.approval_id}/reject`, {
      key: admin,
      body: { reason: 'too dear' },
    });
    await http(app.url, 'PUT', '/api/queue/concurrency', { key: admin, body: { max_concurrent: 7 } });
    await http(app.url, 'PUT', '/api/cloud/providers/replicate/config', {
      key: admin,
      body: { webhook_secret: 'whsec_c2VjcmV0c2VjcmV0', webhook_url: 'https://hooks.example/x' },
    });

    const all = await audit(admin, '?limit=500');
    const actions = all.entries.map((e) => e.action);
    for (const action of [
      'org.create',
      'user.create',
      'user.update',
      'api_key.create',
      'api_key.revoke',
      'approval_rule.create',
      'approval_rule.update',
      'approval_rule.delete',
      'approval.reject',
      'queue_limits.update',
      'provider_config.update',
    ])
      expect(actions).toContain(action);
    const revoke = all.entries.find((e) => e.action === 'api_key.revoke');
    expect(revoke).toMatchObject({
      actor: { username: 'admin' },
      target: { type: 'api_key', id: keys.body.api_keys[0].id },
      org_id: orgA,
      correlation_id: 'audit-revoke-1',
      before: { revoked_at: null },
      after: { revoked_at: expect.any(String) },
    });
    const update = all.entries.find((e) => e.action === 'user.update');
    expect(update).toMatchObject({
      actor: { username: 'audit-lead' },
      before: { email: null },
      after: { email: 'rita@example.com' },
    });
    const limits = all.entries.find((e) => e.action === 'queue_limits.update');
    expect(limits.after.max_concurrent).toBe(7);
    const provider = all.entries.find((e) => e.action === 'provider_config.update');
    expect(provider.after).toMatchObject({ webhook_secret_set: true, webhook_url: 'https://hooks.example/x' });
    expect(JSON.stringify(all)).not.toContain('whsec_c2VjcmV0c2VjcmV0');
    // Newest first, filters and paging.
    const times = all.entries.map((e) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
    const onlyRules = await audit(admin, '?target_type=approval_rule');
    expect(onlyRules.entries.every((e) => e.target.type === 'approval_rule')).toBe(true);
    expect(onlyRules.total).toBeGreaterThanOrEqual(3);
    const page = await audit(admin, '?limit=2&offset=1');
    expect(page.entries).toHaveLength(2);
    expect(page.total).toBe(all.total);
  });

  it("shows a lead its organisation's changes only, and nothing to researchers", async () => {
    const leadB = await makeUser(app, 'audit-lead-b', 'lead', orgB);
    await makeUser(app, 'audit-b-user', 'viewer', orgB);
    const seen = await audit(leadB.key, '?limit=500');
    expect(seen.entries.length).toBeGreaterThan(0);
    expect(seen.entries.every((e) => e.org_id === orgB)).toBe(true);
    const researcher = await makeUser(app, 'audit-res', 'researcher', orgB);
    expect((await http(app.url, 'GET', '/api/audit', { key: researcher.key })).status).toBe(403);
  });

  it('prunes rows older than the retention, and only those', async () => {
    const before = await audit(app.adminKey);
    const service = app.app.get(AuditService);
    expect(await service.pruneExpired(new Date())).toBe(0);
    // A year and a day from now, everything written today is past the 365-day retention.
    expect(await service.pruneExpired(new Date(Date.now() + 366 * 86_400_000))).toBe(before.total);
    expect((await audit(app.adminKey)).total).toBe(0);
  });

  it('offers no route that changes or deletes audit rows', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await http(app.url, method, '/api/audit', { key: app.adminKey, body: {} });
      expect(res.status).toBe(404);
    }
  });
});
