import { generateApiKey } from '../../src/auth/api-key.util';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/**
 * The quota and usage routes over HTTP as a client uses them (the rules behind them are tested at the service
 * tier in test/integration/quotas.spec.ts): create, list, read, change and delete a quota, 404 for one that does not
 * exist, and the usage report in JSON and CSV counting a submitted job.
 */
describe('quota and usage routes (PostgreSQL)', () => {
  let database: TestDatabase;
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startTestApp({
      database,
      env: {
        SIMPLETUNER_ADMIN_API_KEY: generateApiKey(),
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
        SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
      },
    });
    admin = app.adminKey;
  });
  afterAll(async () => {
    await app?.stop();
    await database?.drop();
  });

  it('creates, lists, reads, changes and deletes a quota; an unknown id is 404 on every route', async () => {
    const created = await http(app.url, 'POST', '/api/quotas', {
      key: admin,
      body: { scope: 'global', type: 'jobs_per_day', limit: 50, action: 'warn' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    const list = await http(app.url, 'GET', '/api/quotas', { key: admin });
    expect(list.status).toBe(200);
    expect(list.body.quotas.map((q: { id: string }) => q.id)).toContain(id);

    const one = await http(app.url, 'GET', `/api/quotas/${id}`, { key: admin });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id, scope: 'global', type: 'jobs_per_day', limit: 50, action: 'warn' });

    const changed = await http(app.url, 'PATCH', `/api/quotas/${id}`, { key: admin, body: { limit: 20 } });
    expect(changed.status).toBe(200);
    expect(changed.body.limit).toBe(20);
    expect((await http(app.url, 'GET', `/api/quotas/${id}`, { key: admin })).body.limit).toBe(20);

    const deleted = await http(app.url, 'DELETE', `/api/quotas/${id}`, { key: admin });
    expect(deleted.status).toBe(200);

    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await http(app.url, method, `/api/quotas/${id}`, {
        key: admin,
        ...(method === 'PATCH' ? { body: { limit: 5 } } : {}),
      });
      expect([method, res.status, res.body.error]).toEqual([method, 404, 'not_found']);
    }
  });

  it('the usage report counts a submitted job, in JSON and in CSV', async () => {
    const submitted = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: admin,
      body: { config_name: 'usage-report', config: {}, provider: 'simulator' },
    });
    expect(submitted.status).toBe(201);

    const json = await http(app.url, 'GET', '/api/usage?group_by=provider', { key: admin });
    expect(json.status).toBe(200);
    expect(json.body.group_by).toBe('provider');
    const simulator = json.body.rows.find((r: { key: string }) => r.key === 'simulator');
    expect(simulator.jobs).toBeGreaterThanOrEqual(1);
    expect(json.body.totals.jobs).toBeGreaterThanOrEqual(1);

    const csv = await http(app.url, 'GET', '/api/usage?group_by=provider&format=csv', { key: admin });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toMatch(/^key,/);
    expect(lines.some((l) => l.startsWith('simulator,'))).toBe(true);
  });

  it('shows an entry a concurrent_jobs quota holds as quota_limit on the position route', async () => {
    const quota = await http(app.url, 'POST', '/api/quotas', {
      key: admin,
      body: { scope: 'provider', scope_id: 'simulator', type: 'concurrent_jobs', limit: 1, action: 'block' },
    });
    expect(quota.status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
        key: admin,
        body: { config_name: `held-${i}`, config: {}, provider: 'simulator' },
      });
      expect(res.status).toBe(201);
      ids.push(res.body.job_id as string);
    }
    expect((await http(app.url, 'POST', '/api/queue/process', { key: admin })).status).toBe(200);
    const positions = await Promise.all(
      ids.map(async (id) => (await http(app.url, 'GET', `/api/queue/position/${id}`, { key: admin })).body),
    );
    // One simulator job at a time: the later one (at least) waits on the quota.
    expect(positions[1]).toMatchObject({ status: 'pending', blocked_reason: 'quota_limit' });
    expect((await http(app.url, 'DELETE', `/api/quotas/${quota.body.id}`, { key: admin })).status).toBe(200);
  });
});
