import * as fs from 'node:fs';
import * as path from 'node:path';
import { http } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

/** The polling auto-enable rule, its run-time re-evaluation, the enterprise flag, the interval. */
describe('job status polling settings (PostgreSQL)', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const a of [...apps].reverse()) await a.stop();
  });

  const status = async (app: TestApp) =>
    (await http(app.url, 'GET', '/api/cloud/polling/status', { key: app.adminKey })).body;
  const task = async (app: TestApp) =>
    (
      (await http(app.url, 'GET', '/api/cloud/background-tasks', { key: app.adminKey })).body.tasks as {
        name: string;
      }[]
    ).find((t) => t.name === 'job_status_polling') as Record<string, unknown>;

  it('is on with no webhook, off once webhook_url is set (no restart), and follows the API preference; SIMPLETUNER_JOB_POLL_INTERVAL=60 gives a 60 s task', async () => {
    const app = await startTestApp({ env: { SIMPLETUNER_JOB_POLL_INTERVAL: '60' } });
    apps.push(app);
    expect(await status(app)).toEqual({
      is_active: true,
      preference: null,
      reason: 'auto: no webhook configured',
      interval_seconds: 60,
    });
    expect(await task(app)).toMatchObject({
      enabled: true,
      interval_seconds: 60,
      reason: 'auto: no webhook configured',
    });

    const put = await http(app.url, 'PUT', '/api/cloud/providers/replicate/config', {
      key: app.adminKey,
      body: { webhook_url: 'https://example.test/api/webhooks/replicate' },
    });
    expect(put.status).toBe(200);
    expect(await status(app)).toMatchObject({ is_active: false, preference: null, reason: 'auto: webhook configured' });
    expect(await task(app)).toMatchObject({ enabled: false });

    const forced = await http(app.url, 'PUT', '/api/cloud/polling/setting', {
      key: app.adminKey,
      body: { enabled: true },
    });
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ is_active: true, preference: true });
    expect(await task(app)).toMatchObject({ enabled: true });

    const cleared = await http(app.url, 'PUT', '/api/cloud/polling/setting', {
      key: app.adminKey,
      body: { enabled: null },
    });
    expect(cleared.body).toMatchObject({ is_active: false, preference: null, reason: 'auto: webhook configured' });

    await http(app.url, 'PUT', '/api/cloud/providers/replicate/config', {
      key: app.adminKey,
      body: { webhook_url: null },
    });
    expect(await status(app)).toMatchObject({ is_active: true, reason: 'auto: no webhook configured' });

    expect(
      (await http(app.url, 'PUT', '/api/cloud/polling/setting', { key: app.adminKey, body: { enabled: 'yes' } }))
        .status,
    ).toBe(400);
  });

  it('is forced on by the enterprise flag even with a webhook configured, until the API says otherwise', async () => {
    const dir = makeTempDir('st-ent-');
    const file = path.join(dir, 'enterprise.yaml');
    fs.writeFileSync(file, 'background:\n  job_status_polling:\n    enabled: true\n    interval_seconds: 45\n');
    const app = await startTestApp({ env: { SIMPLETUNER_ENTERPRISE_CONFIG: file } });
    apps.push(app);
    await http(app.url, 'PUT', '/api/cloud/providers/replicate/config', {
      key: app.adminKey,
      body: { webhook_url: 'https://example.test/hook' },
    });
    expect(await status(app)).toEqual({
      is_active: true,
      preference: null,
      reason: 'config: enabled in enterprise config',
      interval_seconds: 45,
    });
    const off = await http(app.url, 'PUT', '/api/cloud/polling/setting', {
      key: app.adminKey,
      body: { enabled: false },
    });
    expect(off.body).toMatchObject({ is_active: false, preference: false });
    expect(await task(app)).toMatchObject({ enabled: false });
  });

  it('follows a setting changed on another instance sharing the database', async () => {
    const a = await startTestApp({ env: { SIMPLETUNER_JOB_POLL_INTERVAL: '2' } });
    apps.push(a);
    const b = await startTestApp({
      database: a.database!,
      env: { SIMPLETUNER_JOB_POLL_INTERVAL: '2', SIMPLETUNER_ADMIN_API_KEY: a.adminKey },
    });
    apps.push(b);
    expect((await status(b)).is_active).toBe(true);
    await http(a.url, 'PUT', '/api/cloud/polling/setting', { key: a.adminKey, body: { enabled: false } });
    let seen = await status(b);
    for (let i = 0; i < 40 && seen.is_active; i++) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await status(b);
    }
    expect(seen).toMatchObject({ is_active: false, preference: false });
    expect(await task(b)).toMatchObject({ enabled: false });
  });

  it('keeps polling settings admin-only', async () => {
    const app = apps[0];
    const u = await http(app.url, 'POST', '/api/users', {
      key: app.adminKey,
      body: { username: 'res', level: 'researcher' },
    });
    const key = (await http(app.url, 'POST', `/api/users/${u.body.id}/api-keys`, { key: app.adminKey, body: {} })).body
      .key;
    expect((await http(app.url, 'PUT', '/api/cloud/polling/setting', { key, body: { enabled: false } })).status).toBe(
      403,
    );
    expect(
      (await http(app.url, 'PUT', '/api/cloud/providers/replicate/config', { key, body: { webhook_url: null } }))
        .status,
    ).toBe(403);
  });
});
