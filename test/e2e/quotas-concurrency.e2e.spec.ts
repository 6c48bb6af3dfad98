import { Client } from 'pg';
import { generateApiKey } from '../../src/auth/api-key.util';
import { http, HttpResult } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const SUBMITS = 20;
const ROOM = 5;

/**
 * Quotas hold exactly under concurrent submits: 20 submits at once against a `block` quota with room for exactly
 * five are five 201s and fifteen 429s with Retry-After — from one instance, from two instances on one PostgreSQL,
 * and for an org quota shared by two users submitting through both instances.
 */
describe('quota check under concurrent submits (PostgreSQL, two instances)', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let admin: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = {
      SIMPLETUNER_ADMIN_API_KEY: generateApiKey(),
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
      DB_POOL_SIZE: '10',
    };
    a = await startTestApp({ database, env });
    b = await startTestApp({ database, env });
    admin = a.adminKey;
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await database?.drop();
  });

  let orgs = 0;
  async function org(): Promise<string> {
    const res = await http(a.url, 'POST', '/api/orgs', { key: admin, body: { name: `quota-org-${++orgs}` } });
    return res.body.id;
  }
  /** A lead (the default first-job rule exempts leads, so every accepted submit goes straight to the queue). */
  async function lead(orgId: string, name: string): Promise<{ id: string; key: string }> {
    const user = await http(a.url, 'POST', '/api/users', {
      key: admin,
      body: { username: name, level: 'lead', org_id: orgId },
    });
    const key = await http(a.url, 'POST', `/api/users/${user.body.id}/api-keys`, { key: admin, body: { name: 'k' } });
    return { id: user.body.id, key: key.body.key };
  }
  async function quota(body: Record<string, unknown>): Promise<string> {
    const res = await http(a.url, 'POST', '/api/quotas', { key: admin, body: { action: 'block', ...body } });
    expect(res.status).toBe(201);
    return res.body.id;
  }
  /** Both instances know the quota (the change reaches the other instance's cache by NOTIFY). */
  async function seenEverywhere(key: string, quotaId: string): Promise<void> {
    for (const app of [a, b]) {
      for (let i = 0; ; i++) {
        const mine = await http(app.url, 'GET', '/api/quotas/me', { key });
        if (mine.body.some((q: { quota_id: string }) => q.quota_id === quotaId)) break;
        if (i > 100) throw new Error('the quota never reached the instance');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
  function submitAll(targets: { app: TestApp; key: string }[]): Promise<HttpResult[]> {
    return Promise.all(
      targets.map(({ app, key }, i) =>
        http(app.url, 'POST', '/api/cloud/jobs/submit', {
          key,
          body: { config_name: `burst-${i}`, config: {}, provider: 'simulator' },
        }),
      ),
    );
  }
  function expectExactlyRoom(results: HttpResult[], quotaId: string): void {
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(ROOM);
    expect(statuses.filter((s) => s === 429)).toHaveLength(SUBMITS - ROOM);
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.body.error).toBe('quota_exceeded');
      expect(r.body.details.quota_id).toBe(quotaId);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      const resetsIn = (Date.parse(r.body.details.resets_at) - Date.now()) / 1000;
      expect(Math.abs(Number(r.headers.get('retry-after')) - resetsIn)).toBeLessThan(5);
    }
  }
  async function jobsOf(userIds: string[]): Promise<number> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM jobs WHERE user_id = ANY($1::uuid[])`,
        [userIds],
      );
      return rows[0].n;
    } finally {
      await client.end();
    }
  }

  it('one user, one instance: exactly five of twenty pass a jobs_per_day quota of five', async () => {
    const u = await lead(await org(), 'burst-one');
    const id = await quota({ scope: 'user', scope_id: u.id, type: 'jobs_per_day', limit: ROOM });
    const results = await submitAll(Array.from({ length: SUBMITS }, () => ({ app: a, key: u.key })));
    expectExactlyRoom(results, id);
    expect(await jobsOf([u.id])).toBe(ROOM);
  });

  it('one user, two instances: still exactly five', async () => {
    const u = await lead(await org(), 'burst-two');
    const id = await quota({ scope: 'user', scope_id: u.id, type: 'jobs_per_hour', limit: ROOM });
    await seenEverywhere(u.key, id);
    const results = await submitAll(Array.from({ length: SUBMITS }, (_, i) => ({ app: i % 2 ? b : a, key: u.key })));
    expectExactlyRoom(results, id);
    expect(await jobsOf([u.id])).toBe(ROOM);
  });

  it('an org cost quota shared by two users on two instances: exactly five jobs fit', async () => {
    const orgId = await org();
    const [u1, u2] = [await lead(orgId, 'org-burst-1'), await lead(orgId, 'org-burst-2')];
    const estimate = await http(a.url, 'GET', '/api/cloud/cost-estimate?hardware_profile=l40s', { key: u1.key });
    const each = estimate.body.estimated_cost as number;
    // Room for five estimates and half of a sixth.
    const id = await quota({ scope: 'org', scope_id: orgId, type: 'cost_daily', limit: each * (ROOM + 0.5) });
    await seenEverywhere(u1.key, id);
    await seenEverywhere(u2.key, id);
    const results = await submitAll(
      Array.from({ length: SUBMITS }, (_, i) => ({ app: i % 2 ? b : a, key: [u1, u2][Math.floor(i / 2) % 2].key })),
    );
    expectExactlyRoom(results, id);
    expect(await jobsOf([u1.id, u2.id])).toBe(ROOM);
    expect(results[results.findIndex((r) => r.status === 429)].body.details).toMatchObject({
      type: 'cost_daily',
      scope: 'org',
      scope_id: orgId,
      requested: each,
    });
  });
});
