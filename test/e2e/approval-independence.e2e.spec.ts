import { DataSource } from 'typeorm';
import { Actor, CHEAP, EXPENSIVE, makeOrg, makeUser, setRuleActive, submit } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Independent approval: nobody approves through an account or a key they control. Each way a lead was seen
 * approving its own $1,054 job is tried here, and the same with the roles swapped; an independent lead of the
 * same organisation still approves. Chains that the API no longer lets a lead build (a lead creating a lead, or
 * minting a lead's key) are set up the way data from before the rule holds them.
 */
describe('independent approval', () => {
  let app: TestApp;
  let db: DataSource;
  let orgA: string;
  let leadA: Actor;
  let leadB: Actor; // independent: created by the admin, key minted by the admin

  const approve = (key: string, approvalId: string) =>
    http(app.url, 'POST', `/api/approvals/requests/${approvalId}/approve`, { key, body: {} });

  /** A held job of `key`'s user; its approval id. */
  async function held(key: string): Promise<string> {
    const res = await submit(app, key, EXPENSIVE);
    expect(res.body).toMatchObject({ requires_approval: true, approval_id: expect.any(String) });
    return res.body.approval_id as string;
  }

  async function expectRefused(key: string, approvalId: string, reason: RegExp): Promise<void> {
    const res = await approve(key, approvalId);
    expect([res.status, res.body.error, res.body.message]).toEqual([403, 'permission_denied', expect.any(String)]);
    expect(res.body.message).toMatch(reason);
  }

  /** The independent lead approves, and the job leaves the approval gate. */
  async function expectIndependentApproves(approvalId: string): Promise<void> {
    const res = await approve(leadB.key, approvalId);
    expect([res.status, res.body.status]).toEqual([200, 'approved']);
  }

  async function mintKey(byKey: string, userId: string): Promise<{ id: string; key: string }> {
    const res = await http(app.url, 'POST', `/api/users/${userId}/api-keys`, { key: byKey, body: {} });
    expect(res.status).toBe(201);
    return { id: res.body.id, key: res.body.key };
  }

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
    db = app.app.get(DataSource);
    orgA = await makeOrg(app, 'ind-a');
    await setRuleActive(app, 'First Job Review', false);
    leadA = await makeUser(app, 'ind-lead-a', 'lead', orgA);
    leadB = await makeUser(app, 'ind-lead-b', 'lead', orgA);
  });
  afterAll(() => app?.stop());

  it('lets a lead create researchers and viewers only: leads and admins come from an admin', async () => {
    for (const level of ['lead', 'admin']) {
      const res = await http(app.url, 'POST', '/api/users', {
        key: leadA.key,
        body: { username: `ind-${level}-by-lead`, level },
      });
      expect([res.status, res.body.message]).toEqual([403, expect.stringMatching(/only an admin manages leads/)]);
    }
    const researcher = await http(app.url, 'POST', '/api/users', {
      key: leadA.key,
      body: { username: 'ind-r-by-lead', level: 'researcher' },
    });
    expect(researcher.status).toBe(201);
    // Nor does a lead mint a key for another lead (that would be holding a second approver's account).
    const forLead = await http(app.url, 'POST', `/api/users/${leadB.id}/api-keys`, { key: leadA.key, body: {} });
    expect(forLead.status).toBe(403);
  });

  it('(a) a lead creates a researcher, submits as it and approves: 403; swapped, an account the lead created approves the lead: 403', async () => {
    const created = await http(app.url, 'POST', '/api/users', {
      key: leadA.key,
      body: { username: 'ind-puppet', level: 'researcher' },
    });
    const puppetKey = await mintKey(leadA.key, created.body.id);
    const approvalId = await held(puppetKey.key);
    await expectRefused(leadA.key, approvalId, /You created the account of the requester/);
    await expectIndependentApproves(approvalId);

    // Swapped: the lead's own request, decided by a lead account it created (before only admins created leads).
    const l2 = await makeUser(app, 'ind-a-l2', 'lead', orgA);
    await db.query(`UPDATE users SET created_by = $1 WHERE id = $2`, [leadA.id, l2.id]);
    const own = await held(leadA.key);
    await expectRefused(l2.key, own, /Your account was created by the requester/);
    await expectIndependentApproves(own);
  });

  it('(b) a lead mints a key for a researcher it did not create, submits with it and approves: 403; also one key further', async () => {
    const rb = await makeUser(app, 'ind-rb', 'researcher', orgA);
    const minted = await mintKey(leadA.key, rb.id);
    const viaMinted = await held(minted.key);
    await expectRefused(leadA.key, viaMinted, /You minted the API key the job was submitted with/);
    await expectIndependentApproves(viaMinted);

    // With the minted key, the researcher's account mints another: the lead still holds the line to it.
    const second = await mintKey(minted.key, rb.id);
    const viaSecond = await held(second.key);
    await expectRefused(leadA.key, viaSecond, /minted the API key the job was submitted with|chain/);
    await expectIndependentApproves(viaSecond);

    // The researcher's own admin-minted key: the lead is independent of it and approves.
    const own = await held(rb.key);
    expect((await approve(leadA.key, own)).status).toBe(200);
  });

  it('(b) swapped: the lead decides its own request with a key it minted for another lead: 403', async () => {
    const other = await makeUser(app, 'ind-other-lead', 'lead', orgA);
    const key = await mintKey(app.adminKey, other.id);
    // Minted by the requester (as a lead could before only admins managed leads).
    await db.query(`UPDATE api_keys SET created_by = $1 WHERE id = $2`, [leadA.id, key.id]);
    const own = await held(leadA.key);
    await expectRefused(key.key, own, /The requester minted the API key you are using/);
    expect((await approve(other.key, own)).status).toBe(200); // the same lead with the admin's key is independent
  });

  it('(c) lead L1 created L2, L2 created L3: L3 cannot approve L1, nor L1 approve L3; other leads can', async () => {
    const l1 = await makeUser(app, 'ind-c-l1', 'lead', orgA);
    const l2 = await makeUser(app, 'ind-c-l2', 'lead', orgA);
    const l3 = await makeUser(app, 'ind-c-l3', 'lead', orgA);
    await db.query(`UPDATE users SET created_by = $1 WHERE id = $2`, [l1.id, l2.id]);
    await db.query(`UPDATE users SET created_by = $1 WHERE id = $2`, [l2.id, l3.id]);

    const ofL1 = await held(l1.key);
    await expectRefused(l3.key, ofL1, /Your account was created by the requester, directly or through accounts/);
    await expectRefused(l2.key, ofL1, /Your account was created by the requester/);
    await expectIndependentApproves(ofL1);

    const ofL3 = await held(l3.key);
    await expectRefused(l1.key, ofL3, /You created the account of the requester, directly or through accounts/);
    expect((await approve(leadA.key, ofL3)).status).toBe(200); // unrelated to the chain
  });

  it('lets the admin decide, except its own request', async () => {
    const rc = await makeUser(app, 'ind-rc', 'researcher', orgA);
    expect((await approve(app.adminKey, await held(rc.key))).status).toBe(200);
    const rule = await http(app.url, 'POST', '/api/approvals/rules', {
      key: app.adminKey,
      body: { name: 'Everyone', condition: 'config_pattern', threshold: 'ind-own-*', required_approver_level: 'admin' },
    });
    try {
      expect(rule.status).toBe(201);
      const own = await submit(app, app.adminKey, { ...CHEAP, config_name: 'ind-own-1' });
      expect([own.status, own.body.requires_approval]).toEqual([201, true]);
      await expectRefused(app.adminKey, own.body.approval_id, /Nobody can decide their own approval request/);
    } finally {
      await http(app.url, 'DELETE', `/api/approvals/rules/${rule.body.id}`, { key: app.adminKey });
    }
  });

  it('records on each job the key it was submitted with and who minted that key', async () => {
    const rd = await makeUser(app, 'ind-rd', 'researcher', orgA);
    const minted = await mintKey(leadA.key, rd.id);
    const res = await submit(app, minted.key, EXPENSIVE);
    const [row] = await db.query(`SELECT submitted_key_id, submitted_key_minted_by FROM jobs WHERE job_id = $1`, [
      res.body.job_id,
    ]);
    expect(row).toEqual({ submitted_key_id: minted.id, submitted_key_minted_by: leadA.id });
  });
});
