import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** Jobs routes on the simulator: submit rules, idempotency, visibility, list, cancel, delete, cost estimate. */
describe('jobs API (PostgreSQL, simulator)', () => {
  let app: TestApp;
  let orgId: string;
  const keys: Record<string, string> = {};
  const ids: Record<string, string> = {};

  async function makeUser(username: string, level: string, org?: string) {
    const u = await http(app.url, 'POST', '/api/users', {
      key: app.adminKey,
      body: { username, level, ...(org ? { org_id: org } : {}) },
    });
    expect(u.status).toBe(201);
    ids[username] = u.body.id;
    keys[username] = (
      await http(app.url, 'POST', `/api/users/${u.body.id}/api-keys`, { key: app.adminKey, body: {} })
    ).body.key;
  }

  const submit = (key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key,
      body: { config_name: 'cfg', config: { lr: 1e-4 }, ...body },
      headers,
    });

  beforeAll(async () => {
    // Long simulator steps: jobs stay active for the cancel/delete checks.
    app = await startTestApp({ env: { SIMULATOR_STEP_SECONDS: '600' } });
    orgId = (await http(app.url, 'POST', '/api/orgs', { key: app.adminKey, body: { name: 'lab' } })).body.id;
    const other = (await http(app.url, 'POST', '/api/orgs', { key: app.adminKey, body: { name: 'elsewhere' } })).body
      .id;
    await makeUser('rita', 'researcher', orgId);
    await makeUser('rob', 'researcher', orgId);
    await makeUser('lena', 'lead', orgId);
    await makeUser('vic', 'viewer', orgId);
    await makeUser('olga', 'lead', other);
    // First-job approval rules would block researchers' first jobs; these tests are about the jobs API itself.
    await http(app.url, 'GET', '/api/approvals/rules', { key: app.adminKey }).then(async (r) => {
      for (const rule of r.body?.rules ?? [])
        await http(app.url, 'PATCH', `/api/approvals/rules/${rule.id}`, {
          key: app.adminKey,
          body: { is_active: false },
        });
    });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('creates with 201, replays an idempotency key with 200 idempotent_hit, and refuses a different body with 409', async () => {
    const first = await submit(keys.rita, { idempotency_key: 'run-1' });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      job_id: expect.any(String),
      status: 'pending',
      requires_approval: false,
      cost_estimate: expect.any(Number),
      queue_position: first.body.queue_position,
      dataloader_config: null,
      lycoris_config: null,
      dataset: null,
      hub_model_id: null,
      max_train_steps: null,
      secrets: [],
    });
    const again = await submit(keys.rita, { idempotency_key: 'run-1' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ job_id: first.body.job_id, idempotent_hit: true });
    const different = await submit(keys.rita, { idempotency_key: 'run-1', config: { lr: 2e-4 } });
    expect(different.status).toBe(409);
    expect(different.body.error).toBe('conflict');
    // Keys are per user: another user's same key is a new job.
    const other = await submit(keys.rob, { idempotency_key: 'run-1' });
    expect(other.status).toBe(201);
    expect(other.body.job_id).not.toBe(first.body.job_id);
  });

  it('creates one job for two concurrent submits with one key', async () => {
    const [a, b] = await Promise.all([
      submit(keys.rita, { idempotency_key: 'race-1' }),
      submit(keys.rita, { idempotency_key: 'race-1' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body.job_id).toBe(b.body.job_id);
    const list = await http(app.url, 'GET', '/api/cloud/jobs?limit=500', { key: keys.rita });
    expect(list.body.jobs.filter((j: { job_id: string }) => j.job_id === a.body.job_id)).toHaveLength(1);
    const all = list.body.jobs.filter((j: { config_name: string; created_at: string }) => j.config_name === 'cfg');
    expect(all.length).toBe(list.body.total);
  });

  it('enforces submit rights: viewer 403, researcher above its priority 403, lead may set priority', async () => {
    expect((await submit(keys.vic, {})).status).toBe(403);
    const high = await submit(keys.rita, { priority: 20 });
    expect(high.status).toBe(403);
    expect(high.body.error).toBe('permission_denied');
    expect((await submit(keys.rita, { priority: 5 })).status).toBe(201);
    const lead = await submit(keys.lena, { priority: 40 });
    expect(lead.status).toBe(201);
    const job = await http(app.url, 'GET', `/api/cloud/jobs/${lead.body.job_id}`, { key: keys.lena });
    expect(job.body.priority).toBe(40);
    // Times as the API writes them everywhere: UTC, to the millisecond.
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    expect([job.body.created_at, job.body.queued_at, job.body.started_at]).toEqual([
      expect.stringMatching(iso),
      expect.stringMatching(iso),
      null,
    ]);
    expect(Date.parse(job.body.created_at)).toBeLessThanOrEqual(Date.now());
    const defaulted = await submit(keys.rob, {});
    expect(
      (await http(app.url, 'GET', `/api/cloud/jobs/${defaulted.body.job_id}`, { key: keys.rob })).body.priority,
    ).toBe(10);
    const bad = await submit(keys.rita, { hardware_profile: 'tpu-x3', unknown_field: 1 });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details)).toContain('unknown_field');
  });

  it('shows a job to its owner, its org lead and viewer, admin; 404 to others', async () => {
    const job = (await submit(keys.rita, {})).body.job_id;
    for (const who of ['rita', 'lena', 'vic'])
      expect((await http(app.url, 'GET', `/api/cloud/jobs/${job}`, { key: keys[who] })).status).toBe(200);
    expect((await http(app.url, 'GET', `/api/cloud/jobs/${job}`, { key: app.adminKey })).status).toBe(200);
    const rob = await http(app.url, 'GET', `/api/cloud/jobs/${job}`, { key: keys.rob });
    expect(rob.status).toBe(404);
    expect(rob.body.error).toBe('job_not_found');
    expect((await http(app.url, 'GET', `/api/cloud/jobs/${job}`, { key: keys.olga })).status).toBe(404);
    expect((await http(app.url, 'POST', `/api/cloud/jobs/${job}/cancel`, { key: keys.olga })).status).toBe(404);
    expect((await http(app.url, 'GET', '/api/cloud/jobs', { key: keys.olga })).body).toEqual({ jobs: [], total: 0 });
  });

  it('lists with filters, limit and offset', async () => {
    const all = await http(app.url, 'GET', '/api/cloud/jobs?limit=2&offset=0', { key: keys.lena });
    expect(all.status).toBe(200);
    expect(all.body.jobs).toHaveLength(2);
    expect(all.body.total).toBeGreaterThan(2);
    // The total is every match's count, whether the page is full, partial, past the end or holds them all.
    const total = all.body.total as number;
    for (const [limit, offset, rows] of [
      [500, 0, total],
      [2, total - 1, 1],
      [2, total, 0],
      [2, total + 10, 0],
    ]) {
      const page = await http(app.url, 'GET', `/api/cloud/jobs?limit=${limit}&offset=${offset}`, { key: keys.lena });
      expect([page.body.jobs.length, page.body.total]).toEqual([rows, total]);
    }
    const ritaOnly = await http(app.url, 'GET', '/api/cloud/jobs?provider=simulator&limit=500', { key: keys.rita });
    expect(
      ritaOnly.body.jobs.every(
        (j: { user_id: string; provider: string }) => j.user_id === ids.rita && j.provider === 'simulator',
      ),
    ).toBe(true);
    const none = await http(app.url, 'GET', '/api/cloud/jobs?status=completed', { key: keys.lena });
    expect(none.body).toEqual({ jobs: [], total: 0 });
    expect((await http(app.url, 'GET', '/api/cloud/jobs?limit=501', { key: keys.lena })).status).toBe(400);
    expect((await http(app.url, 'GET', '/api/cloud/jobs?status=weird', { key: keys.lena })).status).toBe(400);
  });

  it('cancels an active job (409 once terminal) and deletes only terminal jobs (409 invalid_job_state otherwise)', async () => {
    const job = (await submit(keys.rita, {})).body.job_id;
    const del = await http(app.url, 'DELETE', `/api/cloud/jobs/${job}`, { key: keys.rita });
    expect(del.status).toBe(409);
    expect(del.body).toMatchObject({
      error: 'invalid_job_state',
      details: { job_id: job, current_state: expect.any(String), allowed_states: ['completed', 'failed', 'cancelled'] },
    });
    expect((await http(app.url, 'POST', `/api/cloud/jobs/${job}/cancel`, { key: keys.vic })).status).toBe(403);
    const cancel = await http(app.url, 'POST', `/api/cloud/jobs/${job}/cancel`, { key: keys.rita });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ status: 'cancelled', is_terminal: true });
    const again = await http(app.url, 'POST', `/api/cloud/jobs/${job}/cancel`, { key: keys.rita });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('invalid_job_state');
    expect((await http(app.url, 'DELETE', `/api/cloud/jobs/${job}`, { key: keys.rita })).status).toBe(200);
    expect((await http(app.url, 'GET', `/api/cloud/jobs/${job}`, { key: keys.rita })).status).toBe(404);
  });

  it('lets a lead cancel and delete a job of its org; another researcher gets 404', async () => {
    const job = (await submit(keys.rob, {})).body.job_id;
    expect((await http(app.url, 'POST', `/api/cloud/jobs/${job}/cancel`, { key: keys.rita })).status).toBe(404);
    const cancel = await http(app.url, 'POST', `/api/cloud/jobs/${job}/cancel`, {
      key: keys.lena,
      headers: { 'X-Correlation-ID': 'lead-cancel-1' },
    });
    expect(cancel.status).toBe(200);
    expect(cancel.headers.get('x-correlation-id')).toBe('lead-cancel-1');
    expect((await http(app.url, 'DELETE', `/api/cloud/jobs/${job}`, { key: keys.lena })).status).toBe(200);
  });

  it('estimates cost from the profile rate, multiplied for -x2/-x4/-x8', async () => {
    const l40s = await http(app.url, 'GET', '/api/cloud/cost-estimate?hardware_profile=l40s', { key: keys.vic });
    expect(l40s.status).toBe(200);
    expect(l40s.body).toMatchObject({
      hardware_profile: 'l40s',
      cost_per_second: 0.000972222,
      estimated_duration_seconds: 3600,
      basis: 'default',
    });
    expect(l40s.body.estimated_cost).toBeCloseTo(3.5, 5);
    const h100x4 = await http(app.url, 'GET', '/api/cloud/cost-estimate?hardware_profile=h100-x4', { key: keys.vic });
    expect(h100x4.body.cost_per_second).toBeCloseTo(0.0061, 9);
    expect(h100x4.body.estimated_cost).toBeCloseTo(0.0061 * 3600, 5);
    expect(
      (await http(app.url, 'GET', '/api/cloud/cost-estimate?hardware_profile=h100-x3', { key: keys.vic })).status,
    ).toBe(400);
    const withDuration = await submit(keys.rita, {
      hardware_profile: 'h100',
      config: { estimated_duration_seconds: 100 },
    });
    expect(withDuration.body.cost_estimate).toBeCloseTo(0.1525, 6);
  });

  it('lists providers with the simulator as default when no token is set', async () => {
    const res = await http(app.url, 'GET', '/api/cloud/providers', { key: keys.rita });
    expect(res.status).toBe(200);
    expect(res.body.default_provider).toBe('simulator');
    expect(res.body.providers.map((p: { name: string }) => p.name).sort()).toEqual(['replicate', 'simulator']);
    expect(res.body.providers.find((p: { name: string }) => p.name === 'replicate').configured).toBe(false);
    const refused = await submit(keys.rita, { provider: 'replicate' });
    expect(refused.status).toBe(400);
  });

  it('reports jobs by status and active jobs on /metrics', async () => {
    const list = await http(app.url, 'GET', '/api/cloud/jobs?limit=500', { key: app.adminKey });
    const active = list.body.jobs.filter((j: { is_active: boolean }) => j.is_active).length;
    const cancelled = list.body.jobs.filter((j: { status: string }) => j.status === 'cancelled').length;
    const res = await fetch(`${app.url}/metrics`);
    const text = await res.text();
    expect(text).toContain(`simpletuner_jobs_active ${active}`);
    expect(text).toContain(`simpletuner_jobs_total{status="cancelled"} ${cancelled}`);
  });
});
