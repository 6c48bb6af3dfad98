import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { generateApiKey } from '../../src/auth/api-key.util';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ProviderConfigService, ReplicateWebhookReader } from '../../src/providers';
import { signWebhook } from '../../src/common/standard-webhooks';
import { makeOrg, makeUser } from '../support/approval-fixtures';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { requestFrom } from '../support/http-from';
import { startTestApp, TestApp } from '../support/test-app';
import { eventually } from '../support/upload-client';

const CONFIG = '/api/cloud/providers/replicate/config';
const TOKEN = '/api/cloud/providers/replicate/token';
const VALIDATE = '/api/cloud/providers/replicate/validate';
const ROTATE = '/api/cloud/providers/replicate/webhook-secret/rotate';
const HOOK = '/api/webhooks/replicate';

/** A signed delivery of an unknown prediction (answered 200 once its signature verifies). */
function delivery(secret: string, at = new Date()) {
  const body = JSON.stringify({ id: `p-${randomBytes(4).toString('hex')}`, status: 'processing', input: {} });
  const id = `msg_${randomBytes(6).toString('hex')}`;
  const ts = Math.floor(at.getTime() / 1000);
  const headers = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signWebhook(secret, id, ts, body),
  };
  return { body, headers };
}

/**
 * Replicate's credentials through the API, encrypted at rest (two instances on one database: a change applies on
 * both without a restart), the webhook secret's rotation with an overlap, and the webhook source allowlist.
 */
describe('provider credentials and webhook sources (PostgreSQL, fake Replicate)', () => {
  let fake: FakeReplicate;
  let app: TestApp;
  let other: TestApp;

  beforeAll(async () => {
    fake = await startFakeReplicate();
    const env = {
      REPLICATE_API_BASE: fake.url,
      // Not the token the fake accepts: the one stored through the API must win over it.
      REPLICATE_API_TOKEN: 'r8_env_token_that_replicate_refuses',
      SIMPLETUNER_SECRET_KEY: randomBytes(32).toString('base64'),
      SIMPLETUNER_ADMIN_API_KEY: generateApiKey(),
      SIMPLETUNER_TRUSTED_PROXIES: '127.0.0.1',
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
    };
    app = await startTestApp({ env });
    other = await startTestApp({ env, database: app.database! });
  });
  afterAll(async () => {
    await other?.stop();
    await app?.stop();
    await fake?.stop();
  });

  const admin = (method: string, path: string, body?: unknown, on = app) =>
    http(on.url, method, path, { key: on.adminKey, body });

  it('sets, validates and deletes the token; the stored one wins over the environment on every instance', async () => {
    expect((await admin('GET', CONFIG)).body.token_source).toBe('env');
    const refused = await admin('POST', VALIDATE);
    expect(refused.status).toBe(200);
    expect(refused.body).toEqual({ valid: false, error: expect.stringContaining('401') });

    expect((await admin('PUT', TOKEN, { token: 'short' })).status).toBe(400);
    const set = await admin('PUT', TOKEN, { token: fake.token });
    expect(set.status).toBe(200);
    expect(set.body.token_source).toBe('stored');
    expect(set.text).not.toContain(fake.token);
    expect((await admin('POST', VALIDATE)).body).toEqual({ valid: true, username: 'fake-owner' });
    // The other instance picks it up without a restart.
    await eventually(async () => (await admin('POST', VALIDATE, undefined, other)).body.valid === true, 10_000);
    const account = fake.requests.filter((r) => r.path === '/account').at(-1)!;
    expect(account.headers.authorization).toBe(`Bearer ${fake.token}`);

    // Only an admin may touch credentials.
    const org = await makeOrg(app, 'cred-org');
    const lead = await makeUser(app, 'cred-lead', 'lead', org);
    expect((await http(app.url, 'PUT', TOKEN, { key: lead.key, body: { token: fake.token } })).status).toBe(403);

    const cleared = await admin('DELETE', TOKEN);
    expect(cleared.status).toBe(200);
    expect(cleared.body.token_source).toBe('env');
    expect((await admin('POST', VALIDATE)).body.valid).toBe(false);
    // Stored again for the tests below (and the database dump).
    expect((await admin('PUT', TOKEN, { token: fake.token })).status).toBe(200);
  });

  it('rotates the webhook secret: both verify during the overlap, only the new one after', async () => {
    const old = `whsec_${randomBytes(24).toString('base64')}`;
    expect((await admin('PUT', CONFIG, { webhook_secret: old })).status).toBe(200);
    expect((await admin('POST', ROTATE, { overlap_hours: -1 })).status).toBe(400);
    const rotated = await admin('POST', ROTATE, { overlap_hours: 24 });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.webhook_secret as string;
    expect(fresh).toMatch(/^whsec_/);
    const until = Date.parse(rotated.body.previous_valid_until);
    expect(until).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    for (const secret of [old, fresh]) {
      const d = delivery(secret);
      expect((await http(app.url, 'POST', HOOK, { rawBody: d.body, headers: d.headers })).status).toBe(200);
    }
    const wrong = delivery(`whsec_${randomBytes(24).toString('base64')}`);
    expect((await http(app.url, 'POST', HOOK, { rawBody: wrong.body, headers: wrong.headers })).status).toBe(401);
    // After the overlap (a minute past it, read by the webhook's own clock): only the new secret verifies.
    const after = new Date(until + 60_000);
    const reader = app.app.get(ReplicateWebhookReader);
    const late = (secret: string) => {
      const d = delivery(secret, after);
      return reader.read(d.headers, Buffer.from(d.body), after);
    };
    await expect(late(fresh)).resolves.toMatchObject({ providerStatus: 'processing' });
    await expect(late(old)).rejects.toMatchObject({ code: 'invalid_signature' });
  });

  it('encrypts a webhook secret an older version stored in plain text, at boot', async () => {
    const db = app.app.get<DataSource>(getDataSourceToken());
    const plain = `whsec_${randomBytes(24).toString('base64')}`;
    await db.query(
      `UPDATE provider_configs SET webhook_secret = $1, webhook_secret_sealed = NULL, previous_webhook_secret = NULL
        WHERE name = 'replicate'`,
      [plain],
    );
    await app.app.get(ProviderConfigService).onApplicationBootstrap();
    const [row] = await db.query<{ webhook_secret: string | null; sealed: string | null }[]>(
      `SELECT webhook_secret, webhook_secret_sealed::text AS sealed FROM provider_configs WHERE name = 'replicate'`,
    );
    expect(row.webhook_secret).toBeNull();
    expect(row.sealed).not.toContain(plain);
    const d = delivery(plain);
    expect((await http(app.url, 'POST', HOOK, { rawBody: d.body, headers: d.headers })).status).toBe(200);
  });

  it('keeps neither the token nor a webhook secret in plain text in the database', () => {
    const dump = execFileSync('pg_dump', ['--data-only', app.database!.url], {
      encoding: 'utf8',
      maxBuffer: 256 * 2 ** 20,
    });
    expect(dump).toContain('provider_configs');
    expect(dump).not.toContain(fake.token);
    const stored = /whsec_[A-Za-z0-9+/=]{20,}/.exec(dump);
    expect(stored).toBeNull();
  });

  it('refuses webhooks from outside webhook_allowed_ips before reading them, by the client address', async () => {
    const bad = await admin('PUT', CONFIG, { webhook_allowed_ips: ['198.51.100.0/24', 'not-an-address'] });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toHaveProperty('webhook_allowed_ips');
    const ok = await admin('PUT', CONFIG, { webhook_allowed_ips: ['198.51.100.0/24'] });
    expect(ok.status).toBe(200);
    expect(ok.body.webhook_allowed_ips).toEqual(['198.51.100.0/24']);

    const calls = fake.requests.length;
    const d = delivery(`whsec_${randomBytes(24).toString('base64')}`);
    const send = (from: string, forwardedFor?: string) =>
      requestFrom(from, app.url, 'POST', HOOK, {
        headers: { ...d.headers, ...(forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {}) },
        body: JSON.parse(d.body) as unknown,
      });
    const outside = await send('127.0.0.1');
    expect(outside.status).toBe(403);
    expect(outside.body).toMatchObject({ error: 'permission_denied' });
    // A forged X-Forwarded-For from a peer that is not a trusted proxy does not get in.
    expect((await send('127.0.0.2', '198.51.100.7')).status).toBe(403);
    expect(fake.requests.length).toBe(calls);
    // Through the trusted proxy, the allowed client's delivery is read (and refused only for its signature).
    expect((await send('127.0.0.1', '198.51.100.7')).status).toBe(401);

    expect((await admin('PUT', CONFIG, { webhook_allowed_ips: [] })).status).toBe(200);
    expect((await send('127.0.0.1')).status).toBe(401);
  });
});
