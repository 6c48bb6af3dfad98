import { generateApiKey } from '../../src/auth/api-key.util';
import { CHEAP, makeOrg, makeUser, submit, type Actor } from '../support/approval-fixtures';
import { http, type HttpResult } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { TestClock } from '../support/test-clock';
import { archive } from '../support/upload-client';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const GENERAL = 40;
const SUBMITS = 3;
const UPLOADS = 2;
const WEBHOOKS = 2;

function expectHeaders(res: HttpResult, limit: number, remaining: number): void {
  expect(res.headers.get('ratelimit-limit')).toBe(String(limit));
  expect(res.headers.get('ratelimit-remaining')).toBe(String(remaining));
  const reset = Number(res.headers.get('ratelimit-reset'));
  expect(reset).toBeGreaterThanOrEqual(1);
  expect(reset).toBeLessThanOrEqual(60);
}

function expectRefused(res: HttpResult, limit: number): void {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({
    error: 'rate_limit_exceeded',
    details: { limit },
    correlation_id: expect.any(String),
  });
  expectHeaders(res, limit, 0);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

/**
 * Inbound limits: per API key per minute, a general one on each instance and route ones (submit counted in the
 * database, so it holds over two instances on one database); the webhook per client address.
 */
describe('inbound rate limits (two instances, one PostgreSQL database)', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];
  // Both instances see the same minute throughout, so the submit window cannot roll over mid-test.
  const clock = new TestClock();

  beforeAll(async () => {
    clock.set(Date.parse('2026-12-07T10:00:05Z'));
    database = await createTestDatabase();
    const env = {
      SIMPLETUNER_ADMIN_API_KEY: generateApiKey(),
      SIMPLETUNER_RATE_LIMIT_PER_MINUTE: String(GENERAL),
      SIMPLETUNER_RATE_LIMIT_SUBMIT_PER_MINUTE: String(SUBMITS),
      SIMPLETUNER_RATE_LIMIT_UPLOADS_PER_MINUTE: String(UPLOADS),
      SIMPLETUNER_RATE_LIMIT_WEBHOOKS_PER_MINUTE: String(WEBHOOKS),
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
    };
    for (let i = 0; i < 2; i++) apps.push(await startTestApp({ database, env, clock }));
  });
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await database?.drop();
  });

  /** A fresh researcher, made on the second instance (the admin's own requests count there, not on the first). */
  let n = 0;
  const researcher = async (): Promise<Actor> => {
    const org = await makeOrg(apps[1], `limits-${++n}`);
    return makeUser(apps[1], `limits-user-${n}`, 'researcher', org);
  };

  it('counts every request of a key: headers on each answer, 429 with Retry-After past the limit, other keys unaffected', async () => {
    const [a, b] = [await researcher(), await researcher()];
    for (let i = 1; i <= GENERAL; i++) {
      const res = await http(apps[0].url, 'GET', '/api/users/me', { key: a.key });
      expect(res.status).toBe(200);
      expectHeaders(res, GENERAL, GENERAL - i);
    }
    expectRefused(await http(apps[0].url, 'GET', '/api/users/me', { key: a.key }), GENERAL);
    // Another key, and the same key on the other instance (the general limit is per instance), still pass.
    expect((await http(apps[0].url, 'GET', '/api/users/me', { key: b.key })).status).toBe(200);
    expect((await http(apps[1].url, 'GET', '/api/users/me', { key: a.key })).status).toBe(200);
  });

  it('holds the submit limit exactly over two instances', async () => {
    const user = await researcher();
    const other = await researcher();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => submit(apps[i % 2], user.key, { ...CHEAP, provider: 'simulator' })),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(SUBMITS).fill(201), ...Array(8 - SUBMITS).fill(429)]);
    for (const res of answers) {
      expect(res.headers.get('ratelimit-limit')).toBe(String(SUBMITS));
      if (res.status === 429) expectRefused(res, SUBMITS);
    }
    const jobs = await http(apps[1].url, 'GET', `/api/cloud/jobs?limit=100`, { key: apps[1].adminKey });
    expect(jobs.body.jobs.filter((j: { user_id: string }) => j.user_id === user.id)).toHaveLength(SUBMITS);
    // Another key has its own count; the next minute frees room.
    expect((await submit(apps[0], other.key, { ...CHEAP, provider: 'simulator' })).status).toBe(201);
    clock.set(Date.parse('2026-12-07T10:01:05Z'));
    const next = await submit(apps[1], user.key, { ...CHEAP, provider: 'simulator' });
    expect(next.status).toBe(201);
    expectHeaders(next, SUBMITS, SUBMITS - 1);
  });

  it('limits uploads per key', async () => {
    const user = await researcher();
    const upload = () =>
      http(apps[0].url, 'POST', '/api/cloud/uploads?provider=simulator&filename=dataset.zip', {
        key: user.key,
        rawBody: archive(64).data,
        headers: { 'Content-Type': 'application/zip' },
      });
    for (let i = 1; i <= UPLOADS; i++) {
      const res = await upload();
      expect(res.status).toBe(201);
      expectHeaders(res, UPLOADS, UPLOADS - i);
    }
    expectRefused(await upload(), UPLOADS);
  });

  it('counts an anonymous caller by its address, and never limits health probes', async () => {
    // A public route of the sign-in: no key, so the caller is its address (127.0.0.1 here), on the first instance.
    for (let i = 1; i <= GENERAL; i++) {
      const res = await http(apps[0].url, 'GET', '/api/auth/config');
      expect(res.status).toBe(200);
      expectHeaders(res, GENERAL, GENERAL - i);
    }
    // The address's allowance is spent for every public route that counts it: the sign-in ones.
    for (const path of ['/api/auth/config', '/api/auth/oidc/login', '/api/auth/oidc/callback', '/api/auth/session']) {
      expectRefused(await http(apps[0].url, 'GET', path), GENERAL);
    }
    // Probes from the same address still pass, with no allowance to show.
    for (let i = 0; i < 3; i++) {
      const live = await http(apps[0].url, 'GET', '/health/live');
      expect(live.status).toBe(200);
      expect(live.headers.get('ratelimit-limit')).toBeNull();
    }
    // A key from that address has its own allowance.
    const user = await researcher();
    expect((await http(apps[0].url, 'GET', '/api/users/me', { key: user.key })).status).toBe(200);
  });

  it('limits webhooks per client address before reading them', async () => {
    const post = () => http(apps[0].url, 'POST', '/api/webhooks/replicate', { body: { id: 'x', status: 'succeeded' } });
    for (let i = 1; i <= WEBHOOKS; i++) {
      const res = await post();
      expect(res.status).toBe(404); // Replicate is not configured here: refused after the limit is counted
      expectHeaders(res, WEBHOOKS, WEBHOOKS - i);
    }
    expectRefused(await post(), WEBHOOKS);
  });
});
