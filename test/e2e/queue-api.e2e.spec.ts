import { http } from '../support/http';
import {
  FakeQueueProvider,
  putQueueLimits,
  resetQueueState,
  startQueueTestApp,
  makeMembers,
  QueueHarness,
  submitJob,
} from '../support/queue-fixtures';
import type { TestApp } from '../support/test-app';

/**
 * The /api/queue routes over HTTP: who sees and changes what, their validation, the stats and the queue metrics.
 * The whole app on PostgreSQL with an instant in-process provider; the interval tick is an hour away and the tests
 * drive every tick. The queue's rules themselves are tested on its services (test/integration/queue.spec.ts).
 */
describe('queue API (PostgreSQL)', () => {
  let app: TestApp;
  let h: QueueHarness;
  let fake: FakeQueueProvider;

  const setLimits = (body: Record<string, number | null>) => putQueueLimits(app, body);

  beforeAll(async () => {
    ({ app, h } = await startQueueTestApp());
  });
  afterAll(async () => {
    await app?.stop();
  });
  beforeEach(async () => {
    fake = await resetQueueState(h);
  });

  it('scopes GET /api/queue and the priority override by level and org', async () => {
    await setLimits({ max_concurrent: 1, user_max_concurrent: 1, org_max_concurrent: 1 });
    const apiUser = async (username: string, level: string, orgId: string) => {
      const u = await http(app.url, 'POST', '/api/users', {
        key: app.adminKey,
        body: { username, level, org_id: orgId },
      });
      expect(u.status).toBe(201);
      const k = await http(app.url, 'POST', `/api/users/${u.body.id}/api-keys`, {
        key: app.adminKey,
        body: { name: 'k' },
      });
      return { id: u.body.id as string, key: k.body.key as string, username, orgId };
    };
    const [orgX, orgY] = await Promise.all(
      ['x', 'y'].map(
        async (n) =>
          (await http(app.url, 'POST', '/api/orgs', { key: app.adminKey, body: { name: `scope-${n}-${Date.now()}` } }))
            .body.id as string,
      ),
    );
    const researcher = await apiUser(`res-${Date.now()}`, 'researcher', orgX);
    const colleague = await apiUser(`col-${Date.now()}`, 'researcher', orgX);
    const leadX = await apiUser(`leadx-${Date.now()}`, 'lead', orgX);
    const leadY = await apiUser(`leady-${Date.now()}`, 'lead', orgY);
    const own = await submitJob(h, researcher);
    const other = await submitJob(h, colleague);

    const mine = await http(app.url, 'GET', '/api/queue', { key: researcher.key });
    expect(mine.body.entries.map((e: { job_id: string }) => e.job_id)).toEqual([own.jobId]);
    const org = await http(app.url, 'GET', '/api/queue', { key: leadX.key });
    expect(org.body.entries.map((e: { job_id: string }) => e.job_id).sort()).toEqual([own.jobId, other.jobId].sort());
    expect((await http(app.url, 'GET', '/api/queue', { key: leadY.key })).body.entries).toEqual([]);

    const body = { priority: 40 };
    expect(
      (await http(app.url, 'POST', `/api/queue/${own.jobId}/priority`, { key: researcher.key, body })).status,
    ).toBe(403);
    expect(
      (await http(app.url, 'POST', `/api/queue/${other.jobId}/priority`, { key: researcher.key, body })).status,
    ).toBe(404);
    expect((await http(app.url, 'POST', `/api/queue/${own.jobId}/priority`, { key: leadY.key, body })).status).toBe(
      404,
    );
    expect(
      (await http(app.url, 'POST', `/api/queue/${own.jobId}/priority`, { key: leadX.key, body: { priority: 51 } }))
        .status,
    ).toBe(400);
    const set = await http(app.url, 'POST', `/api/queue/${other.jobId}/priority`, { key: leadX.key, body });
    expect(set.body).toMatchObject({ effective_priority: 40, position: 1 });
    expect(
      (await h.db.query(`SELECT priority_override FROM jobs WHERE job_id = $1`, [other.jobId]))[0].priority_override,
    ).toBe(40);
    const cleared = await http(app.url, 'POST', `/api/queue/${other.jobId}/priority`, {
      key: leadX.key,
      body: { priority: null },
    });
    expect(cleared.body).toMatchObject({ effective_priority: 10, position: 2 });
    expect((await http(app.url, 'GET', '/api/queue/stats', { key: leadX.key })).status).toBe(403);
    expect((await http(app.url, 'GET', `/api/queue/position/${other.jobId}`, { key: researcher.key })).status).toBe(
      404,
    );
    const malformed = await http(app.url, 'GET', '/api/queue/position/not-a-uuid', { key: app.adminKey });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: 'validation_error', details: { job_id: 'must be a UUID' } });
  });

  it('serves GET /api/queue, /stats and /concurrency, and rejects a bad limit', async () => {
    await setLimits({ max_concurrent: 5, user_max_concurrent: 2, org_max_concurrent: null });
    const conc = await http(app.url, 'GET', '/api/queue/concurrency', { key: app.adminKey });
    expect(conc.body).toMatchObject({
      max_concurrent: 5,
      user_max_concurrent: 2,
      org_max_concurrent: 10,
      source: { org_max_concurrent: 'config' },
    });
    const bad = await http(app.url, 'PUT', '/api/queue/concurrency', {
      key: app.adminKey,
      body: { max_concurrent: 0 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('validation_error');
    const events = await h.db.query(
      `SELECT data FROM events WHERE type = 'queue_limits_changed' ORDER BY id DESC LIMIT 1`,
    );
    expect(events[0].data).toMatchObject({ type: 'queue_limits_changed', max_concurrent: 5, user_max_concurrent: 2 });

    const [m] = await makeMembers(h.db, 1, 1);
    const job = await submitJob(h, m);
    const list = await http(app.url, 'GET', '/api/queue?status=pending', { key: app.adminKey });
    expect(list.status).toBe(200);
    expect(list.body.entries).toEqual([
      expect.objectContaining({ job_id: job.jobId, status: 'pending', position: 1, effective_priority: 10 }),
    ]);
    await h.queue.processTick(new Date());
    const stats = await http(app.url, 'GET', '/api/queue/stats', { key: app.adminKey });
    expect(stats.body).toMatchObject({ depth: 0, running: 1, limits: { max_concurrent: 5 } });
    expect(stats.body.avg_wait_seconds).toEqual(expect.any(Number));
    const metrics = await http(app.url, 'GET', '/metrics');
    expect(metrics.text).toMatch(/simpletuner_queue_depth\{status="running"\} 1/);
    expect(metrics.text).toMatch(/simpletuner_queue_depth\{status="pending"\} 0/);
    const dispatched = await h.db.query(`SELECT data FROM events WHERE type = 'job_dispatched' AND job_id = $1`, [
      job.jobId,
    ]);
    expect(dispatched[0].data).toMatchObject({
      job_id: job.jobId,
      provider: 'fakeq',
      external_id: fake.creates[0].externalId,
    });
  });
});
