import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { generateApiKey } from '../../src/auth/api-key.util';
import { AuthService } from '../../src/auth/auth.service';
import { UsersService } from '../../src/auth/users.service';
import { makeOrg, makeUser } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/**
 * A verified key is answered from memory: a request with it issues no SQL for the key. Revoking it is seen by
 * every instance within a second (the change is announced through PostgreSQL NOTIFY).
 */
describe('verified-key cache (two instances on PostgreSQL)', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { SIMPLETUNER_ADMIN_API_KEY: generateApiKey(), SIMPLETUNER_QUEUE_INTERVAL: '3600' };
    for (let i = 0; i < 2; i++) apps.push(await startTestApp({ database, env }));
  });
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await database?.drop();
  });

  it('issues no SQL for a key it verified recently', async () => {
    const org = await makeOrg(apps[0], 'cache-org');
    const u = await makeUser(apps[0], 'cache-user', 'researcher', org);
    expect((await http(apps[1].url, 'GET', '/api/cloud/jobs', { key: u.key })).status).toBe(200);
    // A statement counter over every query of the process: which ones read the keys table.
    const query = jest.spyOn(PostgresQueryRunner.prototype, 'query');
    try {
      for (let i = 0; i < 20; i++)
        expect((await http(apps[1].url, 'GET', '/api/cloud/jobs', { key: u.key })).status).toBe(200);
      const keyReads = query.mock.calls.filter(([sql]) => /api_keys/.test(String(sql)));
      expect(keyReads).toHaveLength(0);
      expect(query.mock.calls.length).toBeGreaterThan(0); // the route itself still queries jobs
    } finally {
      query.mockRestore();
    }
  });

  it('refuses a revoked key at once on the instance that revoked it, and on every other within a second', async () => {
    const org = await makeOrg(apps[0], 'cache-revoke');
    const u = await makeUser(apps[0], 'cache-revoked', 'researcher', org);
    for (const a of apps) expect((await http(a.url, 'GET', '/api/users/me', { key: u.key })).status).toBe(200);
    const keys = await http(apps[0].url, 'GET', `/api/users/${u.id}/api-keys`, { key: apps[0].adminKey });
    const auth = apps[0].app.get(AuthService);
    const admin = (await auth.authenticate(apps[0].adminKey))!;
    const revokedAt = Date.now();
    await apps[0].app.get(UsersService).revokeKey(admin, keys.body.api_keys[0].id);
    // Not once its own NOTIFY comes back: when the revocation returns (and its response would go out), the key is
    // already refused here.
    expect(await auth.authenticate(u.key)).toBeNull();
    for (const a of apps) {
      let status = 200;
      while (status === 200 && Date.now() - revokedAt < 1000) {
        status = (await http(a.url, 'GET', '/api/users/me', { key: u.key })).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 20));
      }
      expect(status).toBe(401);
      expect(Date.now() - revokedAt).toBeLessThan(1000);
    }
  });

  it('sees a deactivated user and a level change on the other instance', async () => {
    const org = await makeOrg(apps[0], 'cache-level');
    const u = await makeUser(apps[0], 'cache-lead', 'lead', org);
    expect((await http(apps[1].url, 'GET', '/api/users', { key: u.key })).status).toBe(200);
    await http(apps[0].url, 'PATCH', `/api/users/${u.id}`, { key: apps[0].adminKey, body: { level: 'viewer' } });
    await new Promise((r) => setTimeout(r, 300));
    expect((await http(apps[1].url, 'GET', '/api/users', { key: u.key })).status).toBe(403);
    await http(apps[0].url, 'PATCH', `/api/users/${u.id}`, { key: apps[0].adminKey, body: { is_active: false } });
    await new Promise((r) => setTimeout(r, 300));
    expect((await http(apps[1].url, 'GET', '/api/users/me', { key: u.key })).status).toBe(401);
  });
});
