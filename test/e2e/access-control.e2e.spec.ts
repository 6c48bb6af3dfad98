import { Actor, EXPENSIVE, makeOrg, makeUser, setRuleActive, submit } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The rules of one access policy, probed as a second account, an expiring key and another organisation would:
 * what a caller may not see is 404 everywhere; only a visible thing can be 403, with the reason.
 */
describe('access control', () => {
  let app: TestApp;
  let orgA: string;
  let orgB: string;
  const people: Record<string, Actor> = {};

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
    orgA = await makeOrg(app, 'acl-a');
    orgB = await makeOrg(app, 'acl-b');
    await setRuleActive(app, 'First Job Review', false);
    people.lead = await makeUser(app, 'acl-lead', 'lead', orgA);
    people.rita = await makeUser(app, 'acl-rita', 'researcher', orgA);
    people.rob = await makeUser(app, 'acl-rob', 'researcher', orgA);
    people.vic = await makeUser(app, 'acl-vic', 'viewer', orgA);
    people.leadB = await makeUser(app, 'acl-lead-b', 'lead', orgB);
  });
  afterAll(() => app?.stop());

  describe('keys', () => {
    it("lists a user's keys (never the secret) to the user and its managers, and to nobody else", async () => {
      const own = await http(app.url, 'GET', `/api/users/${people.rita.id}/api-keys`, { key: people.rita.key });
      expect(own.status).toBe(200);
      expect(own.body.api_keys).toHaveLength(1);
      expect(own.body.api_keys[0]).toMatchObject({
        user_id: people.rita.id,
        prefix: people.rita.key.slice(0, 11),
        created_by: expect.any(String),
      });
      expect(Object.keys(own.body.api_keys[0])).toEqual(
        expect.arrayContaining(['name', 'created_at', 'created_by', 'last_used_at', 'expires_at', 'revoked_at']),
      );
      expect(JSON.stringify(own.body)).not.toContain(people.rita.key);
      const lead = await http(app.url, 'GET', `/api/users/${people.rita.id}/api-keys`, { key: people.lead.key });
      expect(lead.status).toBe(200);
      expect(
        (await http(app.url, 'GET', `/api/users/${people.rita.id}/api-keys`, { key: people.rob.key })).status,
      ).toBe(404);
      expect(
        (await http(app.url, 'GET', `/api/users/${people.rita.id}/api-keys`, { key: people.leadB.key })).status,
      ).toBe(404);
    });

    it('records when a key was last used', async () => {
      await http(app.url, 'GET', '/api/users/me', { key: people.vic.key });
      await new Promise((r) => setTimeout(r, 200));
      const keys = await http(app.url, 'GET', `/api/users/${people.vic.id}/api-keys`, { key: people.vic.key });
      expect(keys.body.api_keys[0].last_used_at).not.toBeNull();
    });

    it('an expiring key cannot mint a key that outlives it', async () => {
      const soon = new Date(Date.now() + 60_000).toISOString();
      const short = await http(app.url, 'POST', `/api/users/${people.rob.id}/api-keys`, {
        key: app.adminKey,
        body: { expires_at: soon },
      });
      const path = `/api/users/${people.rob.id}/api-keys`;
      const forever = await http(app.url, 'POST', path, { key: short.body.key, body: {} });
      expect(forever.status).toBe(403);
      expect(forever.body).toMatchObject({ error: 'permission_denied', details: { expires_at: expect.any(String) } });
      const later = new Date(Date.now() + 3_600_000).toISOString();
      expect((await http(app.url, 'POST', path, { key: short.body.key, body: { expires_at: later } })).status).toBe(
        403,
      );
      const sooner = new Date(Date.now() + 30_000).toISOString();
      const ok = await http(app.url, 'POST', path, { key: short.body.key, body: { expires_at: sooner } });
      expect(ok.status).toBe(201);
      expect(ok.body.created_by).toBe(people.rob.id);
    });
  });

  describe('separation of duties', () => {
    it('refuses an approval by a second account of the requester, and by a key the requester minted', async () => {
      const held = await submit(app, people.lead.key, EXPENSIVE);
      expect(held.body.requires_approval).toBe(true);
      const path = `/api/approvals/requests/${held.body.approval_id}/approve`;
      // A lead cannot make itself a second approver account: only an admin creates leads.
      const puppet = await http(app.url, 'POST', '/api/users', {
        key: people.lead.key,
        body: { username: 'acl-puppet', level: 'lead' },
      });
      expect(puppet.status).toBe(403);
      expect(puppet.body.error).toBe('permission_denied');
      // Nor mint a key for another lead of its organisation.
      const other = await makeUser(app, 'acl-other-lead', 'lead', orgA);
      const mintedByRequester = await http(app.url, 'POST', `/api/users/${other.id}/api-keys`, {
        key: people.lead.key,
        body: {},
      });
      expect(mintedByRequester.status).toBe(403);
      // The other lead with the key the admin gave it decides.
      const ok = await http(app.url, 'POST', path, { key: other.key, body: {} });
      expect(ok.status).toBe(200);
      expect(ok.body.status).toBe('approved');
    });
  });

  describe('usernames', () => {
    it('are unique within an organisation only, so a lead learns nothing about other organisations', async () => {
      const create = (key: string) =>
        http(app.url, 'POST', '/api/users', { key, body: { username: 'acl-sam', level: 'researcher' } });
      const inA = await create(people.lead.key);
      expect(inA.status).toBe(201);
      // The same name in another organisation is free: nothing tells lead B that org A has one.
      const inB = await create(people.leadB.key);
      expect([inB.status, inB.body.org_id]).toEqual([201, orgB]);
      const again = await create(people.leadB.key);
      expect([again.status, again.body.error, again.body.message]).toEqual([
        409,
        'conflict',
        'Username acl-sam is taken in this organisation',
      ]);
      // An admin moving a user into an organisation that has the name gets the same 409, not a 500.
      const move = await http(app.url, 'PATCH', `/api/users/${inA.body.id}`, {
        key: app.adminKey,
        body: { org_id: orgB },
      });
      expect([move.status, move.body.error]).toEqual([409, 'conflict']);
    });
  });

  describe('visibility', () => {
    let approvalId: string;
    let jobId: string;

    beforeAll(async () => {
      const held = await submit(app, people.rita.key, EXPENSIVE);
      approvalId = held.body.approval_id;
      jobId = held.body.job_id;
    });

    it('shows researchers the approval requests of their own jobs only', async () => {
      expect(
        (await http(app.url, 'GET', `/api/approvals/requests/${approvalId}`, { key: people.rita.key })).status,
      ).toBe(200);
      expect(
        (await http(app.url, 'GET', `/api/approvals/requests/${approvalId}`, { key: people.rob.key })).status,
      ).toBe(404);
      const list = await http(app.url, 'GET', '/api/approvals/requests', { key: people.rob.key });
      expect(list.body.requests.map((r: { id: string }) => r.id)).not.toContain(approvalId);
      const viewer = await http(app.url, 'GET', `/api/approvals/requests/${approvalId}`, { key: people.vic.key });
      expect(viewer.status).toBe(200);
    });

    it("gives another organisation's lead 404 (not 403) for a request, as for an unknown id", async () => {
      for (const [action, body] of [
        ['approve', {}],
        ['reject', { reason: 'no' }],
      ] as const) {
        const res = await http(app.url, 'POST', `/api/approvals/requests/${approvalId}/${action}`, {
          key: people.leadB.key,
          body,
        });
        expect(res.status).toBe(404);
      }
      const unknown = await http(
        app.url,
        'POST',
        `/api/approvals/requests/00000000-0000-4000-8000-000000000000/approve`,
        {
          key: people.leadB.key,
          body: {},
        },
      );
      expect(unknown.status).toBe(404);
    });

    it('gives a viewer the queue position of a job it may read; a visible request it may not decide is 403', async () => {
      const pos = await http(app.url, 'GET', `/api/queue/position/${jobId}`, { key: people.vic.key });
      expect(pos.status).toBe(200);
      expect(pos.body.blocked_reason).toBe('awaiting_approval');
      expect((await http(app.url, 'GET', `/api/queue/position/${jobId}`, { key: people.rob.key })).status).toBe(404);
      expect((await http(app.url, 'GET', `/api/queue/position/${jobId}`, { key: people.leadB.key })).status).toBe(404);
      const viewerDecides = await http(app.url, 'POST', `/api/approvals/requests/${approvalId}/approve`, {
        key: people.vic.key,
        body: {},
      });
      expect(viewerDecides.status).toBe(403);
    });
  });
});
