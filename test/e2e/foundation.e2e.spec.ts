import { Controller, Get, Module } from '@nestjs/common';
import { Public } from '../../src/auth/auth.decorators';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase } from '../support/test-database';

@Controller('test-only')
class ExplodingController {
  @Get('boom')
  @Public()
  boom(): never {
    throw new Error('password=hunter2 at /srv/internal/db.ts:42');
  }
}

@Module({ controllers: [ExplodingController] })
class ExplodingModule {}

describe('foundation over HTTP (PostgreSQL)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ imports: [ExplodingModule] });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('reports readiness with database and migrations', async () => {
    const res = await http(app.url, 'GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.details.database.status).toBe('up');
    expect(res.body.details.migrations.status).toBe('up');
    expect(res.headers.get('x-correlation-id')).toMatch(/^[0-9a-f]{12}$/);
  });

  it('rejects a request without a key with 401 authentication_error', async () => {
    const res = await http(app.url, 'GET', '/api/users/me');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: 'authentication_error',
      message: expect.any(String),
      correlation_id: res.headers.get('x-correlation-id'),
    });
  });

  it('accepts the bootstrap key by header and by bearer token', async () => {
    const a = await http(app.url, 'GET', '/api/users/me', { key: app.adminKey });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ username: 'admin', level: 'admin', is_active: true });
    const b = await http(app.url, 'GET', '/api/users/me', { headers: { Authorization: `Bearer ${app.adminKey}` } });
    expect(b.status).toBe(200);
    const wrong = await http(app.url, 'GET', '/api/users/me', { key: 'st_' + 'a'.repeat(32) });
    expect(wrong.status).toBe(401);
  });

  it('gives a viewer 403 permission_denied on an admin route, and 401 once its key is revoked', async () => {
    const user = await http(app.url, 'POST', '/api/users', {
      key: app.adminKey,
      body: { username: 'vera', level: 'viewer' },
    });
    expect(user.status).toBe(201);
    const key = await http(app.url, 'POST', `/api/users/${user.body.id}/api-keys`, {
      key: app.adminKey,
      body: { name: 'k' },
    });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^st_[A-Za-z0-9]{32}$/);
    expect(key.body.prefix).toBe(key.body.key.slice(0, 11));
    const denied = await http(app.url, 'POST', '/api/orgs', { key: key.body.key, body: { name: 'acme' } });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('permission_denied');
    const me = await http(app.url, 'GET', '/api/users/me', { key: key.body.key });
    expect(me.body.username).toBe('vera');
    const revoked = await http(app.url, 'DELETE', `/api/api-keys/${key.body.id}`, { key: app.adminKey });
    expect(revoked.status).toBe(200);
    expect((await http(app.url, 'GET', '/api/users/me', { key: key.body.key })).status).toBe(401);
  });

  it('answers malformed JSON with 400 validation_error carrying the request id', async () => {
    const res = await http(app.url, 'POST', '/api/orgs', {
      key: app.adminKey,
      rawBody: '{"name": ',
      headers: { 'X-Correlation-ID': 'req-malformed-1' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation_error', correlation_id: 'req-malformed-1' });
  });

  it('names an unknown field and each bad field', async () => {
    const res = await http(app.url, 'POST', '/api/users', {
      key: app.adminKey,
      body: { username: 'bob', level: 'wizard', favourite_colour: 'blue' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_error');
    expect(Object.keys(res.body.details)).toEqual(expect.arrayContaining(['favourite_colour', 'level']));
    expect(res.body.details.favourite_colour).toMatch(/unknown field/);
  });

  it('answers a body over 1 MiB with 413 in the error shape', async () => {
    const res = await http(app.url, 'POST', '/api/orgs', {
      key: app.adminKey,
      rawBody: JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'payload_too_large', correlation_id: expect.any(String) });
  });

  it('lets a lead create researchers and viewers of its org, never a lead or admin, never in another org', async () => {
    const org = await http(app.url, 'POST', '/api/orgs', { key: app.adminKey, body: { name: 'lab' } });
    const other = await http(app.url, 'POST', '/api/orgs', { key: app.adminKey, body: { name: 'other-lab' } });
    const lead = await http(app.url, 'POST', '/api/users', {
      key: app.adminKey,
      body: { username: 'lee', level: 'lead', org_id: org.body.id },
    });
    const leadKey = (
      await http(app.url, 'POST', `/api/users/${lead.body.id}/api-keys`, { key: app.adminKey, body: {} })
    ).body.key;
    const ok = await http(app.url, 'POST', '/api/users', {
      key: leadKey,
      body: { username: 'rita', level: 'researcher' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.org_id).toBe(org.body.id);
    for (const level of ['lead', 'admin']) {
      const refused = await http(app.url, 'POST', '/api/users', { key: leadKey, body: { username: 'ada', level } });
      expect([refused.status, refused.body.message]).toEqual([403, expect.stringMatching(/only an admin/)]);
    }
    expect(
      (
        await http(app.url, 'POST', '/api/users', {
          key: leadKey,
          body: { username: 'otto', level: 'viewer', org_id: other.body.id },
        })
      ).status,
    ).toBe(403);
    const list = await http(app.url, 'GET', '/api/users', { key: leadKey });
    expect(list.body.users.map((u: { username: string }) => u.username).sort()).toEqual(['lee', 'rita']);
    // A user the lead cannot see is 404, not 403.
    const admin = await http(app.url, 'GET', '/api/users/me', { key: app.adminKey });
    expect(
      (await http(app.url, 'PATCH', `/api/users/${admin.body.id}`, { key: leadKey, body: { is_active: false } }))
        .status,
    ).toBe(404);
  });

  it('answers an unexpected error with 500 internal_error and no internals', async () => {
    const res = await http(app.url, 'GET', '/test-only/boom');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: 'internal_error',
      message: 'Internal server error',
      correlation_id: res.headers.get('x-correlation-id'),
    });
    expect(res.text).not.toMatch(/hunter2|internal\/db|stack/);
  });

  it('answers an unknown route with 404 not_found in the error shape', async () => {
    const res = await http(app.url, 'GET', '/api/nothing-here', { key: app.adminKey });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'not_found', correlation_id: expect.any(String) });
  });
});

describe('restart on PostgreSQL', () => {
  it('keeps users created before the restart', async () => {
    const database = await createTestDatabase();
    try {
      const first = await startTestApp({ database });
      const created = await http(first.url, 'POST', '/api/users', {
        key: first.adminKey,
        body: { username: 'persisted', level: 'lead' },
      });
      expect(created.status).toBe(201);
      await first.stop();
      const second = await startTestApp({ database, env: { SIMPLETUNER_ADMIN_API_KEY: first.adminKey } });
      try {
        const users = await http(second.url, 'GET', '/api/users', { key: first.adminKey });
        expect(users.body.users.map((u: { username: string }) => u.username)).toEqual(['admin', 'persisted']);
      } finally {
        await second.stop();
      }
    } finally {
      await database.drop();
    }
  });
});
