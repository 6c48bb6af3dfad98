import { CHEAP, makeOrg, makeUser, setRuleActive, submit } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

/** Organisation routes (get, members, rename, delete) and approval rules by the submitter's level. */
describe('organisations and level rules', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
    await setRuleActive(app, 'First Job Review', false);
  });
  afterAll(() => app?.stop());

  const as = (key: string, method: string, path: string, body?: unknown) => http(app.url, method, path, { key, body });

  it('shows an organisation and its members to whom may see them', async () => {
    const orgA = await makeOrg(app, 'orgs-a');
    const orgB = await makeOrg(app, 'orgs-b');
    const lead = await makeUser(app, 'orgs-lead', 'lead', orgA);
    const researcher = await makeUser(app, 'orgs-researcher', 'researcher', orgA);

    expect((await as(app.adminKey, 'GET', `/api/orgs/${orgB}`)).body).toMatchObject({ id: orgB, name: 'orgs-b' });
    expect((await as(researcher.key, 'GET', `/api/orgs/${orgA}`)).status).toBe(200);
    expect((await as(researcher.key, 'GET', `/api/orgs/${orgB}`)).status).toBe(404);
    expect((await as(app.adminKey, 'GET', `/api/orgs/${UNKNOWN}`)).status).toBe(404);
    expect((await as(app.adminKey, 'GET', '/api/orgs/not-a-uuid')).status).toBe(400);

    const members = await as(lead.key, 'GET', `/api/orgs/${orgA}/members`);
    expect(members.status).toBe(200);
    expect(members.body.users.map((u: { username: string }) => u.username).sort()).toEqual([
      'orgs-lead',
      'orgs-researcher',
    ]);
    expect((await as(lead.key, 'GET', `/api/orgs/${orgB}/members`)).status).toBe(404);
    expect((await as(researcher.key, 'GET', `/api/orgs/${orgA}/members`)).status).toBe(403);
    expect((await as(app.adminKey, 'GET', `/api/orgs/${orgB}/members`)).body).toEqual({ users: [] });
  });

  it('renames an organisation (admin), refusing a taken name', async () => {
    const org = await makeOrg(app, 'orgs-rename');
    await makeOrg(app, 'orgs-taken');
    const renamed = await as(app.adminKey, 'PATCH', `/api/orgs/${org}`, { name: 'orgs-renamed' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: org, name: 'orgs-renamed' });
    expect((await as(app.adminKey, 'PATCH', `/api/orgs/${org}`, { name: 'orgs-taken' })).status).toBe(409);
    expect((await as(app.adminKey, 'PATCH', `/api/orgs/${org}`, { name: '' })).status).toBe(400);
    expect((await as(app.adminKey, 'PATCH', `/api/orgs/${UNKNOWN}`, { name: 'x' })).status).toBe(404);
    const audit = await as(app.adminKey, 'GET', `/api/audit?target_id=${org}`);
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toContain('org.update');
  });

  it('deletes an organisation only with no user and no active job, keeping its finished history', async () => {
    const empty = await makeOrg(app, 'orgs-empty');
    expect((await as(app.adminKey, 'DELETE', `/api/orgs/${empty}`)).status).toBe(204);
    expect((await as(app.adminKey, 'GET', `/api/orgs/${empty}`)).status).toBe(404);
    expect((await as(app.adminKey, 'DELETE', `/api/orgs/${UNKNOWN}`)).status).toBe(404);

    const busy = await makeOrg(app, 'orgs-busy');
    const user = await makeUser(app, 'orgs-busy-user', 'researcher', busy);
    const withUsers = await as(app.adminKey, 'DELETE', `/api/orgs/${busy}`);
    expect(withUsers.status).toBe(409);
    expect(withUsers.body).toMatchObject({ error: 'conflict', details: { users: 1 } });
    // Its user leaves, its job is still active: still refused.
    const job = await submit(app, user.key, { ...CHEAP, provider: 'simulator' });
    expect(job.status).toBe(201);
    const elsewhere = await makeOrg(app, 'orgs-elsewhere');
    expect((await as(app.adminKey, 'PATCH', `/api/users/${user.id}`, { org_id: elsewhere })).status).toBe(200);
    const withJobs = await as(app.adminKey, 'DELETE', `/api/orgs/${busy}`);
    expect(withJobs.status).toBe(409);
    expect(withJobs.body).toMatchObject({ error: 'conflict', details: { active_jobs: 1 } });

    // Once the job has ended it goes; the finished job keeps naming it, and its name is free again.
    const jobId = job.body.job_id as string;
    expect((await as(app.adminKey, 'POST', `/api/cloud/jobs/${jobId}/cancel`)).status).toBe(200);
    expect((await as(app.adminKey, 'DELETE', `/api/orgs/${busy}`)).status).toBe(204);
    expect((await as(app.adminKey, 'GET', `/api/orgs/${busy}`)).status).toBe(404);
    expect((await as(app.adminKey, 'DELETE', `/api/orgs/${busy}`)).status).toBe(404);
    const listed = await as(app.adminKey, 'GET', '/api/orgs');
    expect(listed.body.orgs.map((o: { id: string }) => o.id)).not.toContain(busy);
    const kept = await as(app.adminKey, 'GET', `/api/cloud/jobs/${jobId}`);
    expect(kept.body).toMatchObject({ job_id: jobId, org_id: busy, status: 'cancelled' });
    expect((await as(app.adminKey, 'POST', '/api/orgs', { name: 'orgs-busy' })).status).toBe(201);
    const add = await as(app.adminKey, 'POST', '/api/users', { username: 'orgs-late', level: 'viewer', org_id: busy });
    expect(add.status).toBe(400);
    expect(add.body.details).toEqual({ org_id: 'unknown organisation' });
  });

  it('holds the jobs of a level with a user_level rule, and applies_to_levels limits a rule to its levels', async () => {
    const org = await makeOrg(app, 'orgs-levels');
    const researcher = await makeUser(app, 'levels-researcher', 'researcher', org);
    const lead = await makeUser(app, 'levels-lead', 'lead', org);
    const bad = await as(app.adminKey, 'POST', '/api/approvals/rules', {
      name: 'no such level',
      condition: 'user_level',
      threshold: 'boss',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toHaveProperty('threshold');
    const rule = await as(app.adminKey, 'POST', '/api/approvals/rules', {
      name: 'researchers need review',
      condition: 'user_level',
      threshold: 'researcher',
      priority: 500,
      applies_to_levels: ['researcher', 'lead'],
    });
    expect(rule.status).toBe(201);
    expect(rule.body).toMatchObject({ condition: 'user_level', threshold: 'researcher' });
    expect(rule.body.applies_to_levels).toEqual(['researcher', 'lead']);

    const held = await submit(app, researcher.key, { ...CHEAP, provider: 'simulator' });
    expect(held.body).toMatchObject({ requires_approval: true });
    expect((await submit(app, lead.key, { ...CHEAP, provider: 'simulator' })).body.requires_approval).toBe(false);

    // Limited to leads, the same rule no longer applies to researchers at all.
    const patched = await as(app.adminKey, 'PATCH', `/api/approvals/rules/${rule.body.id}`, {
      applies_to_levels: ['lead'],
    });
    expect(patched.body.applies_to_levels).toEqual(['lead']);
    expect((await submit(app, researcher.key, { ...CHEAP, provider: 'simulator' })).body.requires_approval).toBe(false);
    await as(app.adminKey, 'DELETE', `/api/approvals/rules/${rule.body.id}`);
  });
});
