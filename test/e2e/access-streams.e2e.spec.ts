import { generateApiKey } from '../../src/auth/api-key.util';
import { makeOrg, makeUser } from '../support/approval-fixtures';
import { http } from '../support/http';
import { openSse, SseStream } from '../support/sse-client';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/** Opens a stream and waits until it is connected. */
async function connected(app: TestApp, key: string): Promise<SseStream> {
  const s = await openSse(app.url, '/api/events', { key });
  expect(s.status).toBe(200);
  await s.waitFor((x) => x.comments.includes('connected'), 3000, ': connected');
  return s;
}

/** The stream ends with an `error` event naming authentication, within `ms`. */
async function endsWithin(s: SseStream, ms: number, started: number): Promise<void> {
  await s.waitFor((x) => x.ended, ms, 'the stream to end');
  expect(Date.now() - started).toBeLessThan(ms);
  const last = s.messages[s.messages.length - 1];
  expect(last).toMatchObject({ event: 'error' });
  expect(last.json.error).toBe('authentication_error');
}

/**
 * An event stream lives on the authority it was opened with: revoking or expiring its key, deactivating its user
 * or moving the user to another organisation ends it within a second, on the instance that made the change and on
 * another one.
 */
describe('event streams follow their authority (two instances on PostgreSQL)', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];
  let orgA: string;
  let orgB: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { SIMPLETUNER_ADMIN_API_KEY: generateApiKey(), SIMPLETUNER_QUEUE_INTERVAL: '3600' };
    for (let i = 0; i < 2; i++) apps.push(await startTestApp({ database, env }));
    orgA = await makeOrg(apps[0], 'streams-a');
    orgB = await makeOrg(apps[0], 'streams-b');
  });
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await database?.drop();
  });

  it.each([
    ['revoking its key', 0],
    ['revoking its key (stream on the other instance)', 1],
  ])('ends on %s', async (_what, streamOn) => {
    const u = await makeUser(apps[0], `rev-${streamOn}`, 'researcher', orgA);
    const keys = await http(apps[0].url, 'GET', `/api/users/${u.id}/api-keys`, { key: apps[0].adminKey });
    const s = await connected(apps[streamOn], u.key);
    const started = Date.now();
    const revoke = await http(apps[0].url, 'DELETE', `/api/api-keys/${keys.body.api_keys[0].id}`, {
      key: apps[0].adminKey,
    });
    expect(revoke.status).toBe(200);
    await endsWithin(s, 1000, started);
  });

  it.each([
    ['deactivating its user', { is_active: false }, 0],
    ['deactivating its user (stream on the other instance)', { is_active: false }, 1],
    ['moving its user to another organisation', 'orgB', 0],
    ['moving its user to another organisation (stream on the other instance)', 'orgB', 1],
  ])('ends on %s', async (_what, change, streamOn) => {
    const u = await makeUser(
      apps[0],
      `chg-${String(streamOn)}-${Object.keys(change).length}${typeof change}`,
      'lead',
      orgA,
    );
    const s = await connected(apps[streamOn], u.key);
    const body = change === 'orgB' ? { org_id: orgB } : change;
    const started = Date.now();
    const res = await http(apps[0].url, 'PATCH', `/api/users/${u.id}`, { key: apps[0].adminKey, body });
    expect(res.status).toBe(200);
    await endsWithin(s, 1000, started);
  });

  it('ends when its key expires, and the expired key opens nothing', async () => {
    const u = await makeUser(apps[0], 'expiring', 'researcher', orgA);
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const short = await http(apps[0].url, 'POST', `/api/users/${u.id}/api-keys`, {
      key: apps[0].adminKey,
      body: { expires_at: expiresAt },
    });
    const s = await connected(apps[1], short.body.key);
    await s.waitFor((x) => x.ended, 3000, 'the stream to end at the expiry');
    expect(Date.now()).toBeLessThan(new Date(expiresAt).getTime() + 1000);
    expect(s.messages[s.messages.length - 1].json.error).toBe('authentication_error');
    expect((await http(apps[1].url, 'GET', '/api/users/me', { key: short.body.key })).status).toBe(401);
  });

  it('an unrelated change leaves other streams open', async () => {
    const keep = await makeUser(apps[0], 'keeper', 'researcher', orgA);
    const other = await makeUser(apps[0], 'other', 'researcher', orgA);
    const s = await connected(apps[1], keep.key);
    await http(apps[0].url, 'PATCH', `/api/users/${other.id}`, { key: apps[0].adminKey, body: { is_active: false } });
    await new Promise((r) => setTimeout(r, 500));
    expect(s.ended).toBe(false);
    await s.close();
  });
});

describe('event streams follow their authority (PGlite, one process)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite', env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
  });
  afterAll(() => app?.stop());

  it('ends a stream within a second of its key being revoked', async () => {
    const org = await makeOrg(app, 'pg-lite-org');
    const u = await makeUser(app, 'lite', 'researcher', org);
    const keys = await http(app.url, 'GET', `/api/users/${u.id}/api-keys`, { key: app.adminKey });
    const s = await connected(app, u.key);
    const started = Date.now();
    await http(app.url, 'DELETE', `/api/api-keys/${keys.body.api_keys[0].id}`, { key: app.adminKey });
    await endsWithin(s, 1000, started);
  });
});
