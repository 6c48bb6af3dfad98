import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { EventsService } from '../../src/events';
import { makeOrg, makeUser } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET_KEY = randomBytes(32).toString('base64');

/**
 * Notification channels and deliveries over HTTP, against a local receiver: a job's completion arrives signed, a
 * receiver failing twice sees one webhook-id three times, redeliver and test, auto-disable after 20 failures, and
 * every route's statuses. Private targets are allowed here (the receiver is on loopback); the guard has its own spec.
 */
describe('notifications (PostgreSQL)', () => {
  let app: TestApp;
  const receiver = new WebhookReceiver();

  const createWebhook = async (path: string, events: string[], owner_scope = 'user') => {
    const res = await http(app.url, 'POST', '/api/notifications/channels', {
      key: app.adminKey,
      body: { kind: 'webhook', name: `hook ${path}`, owner_scope, config: { url: `${receiver.url}${path}` }, events },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; signing_secret: string };
  };
  const deliveriesOf = async (channelId: string) =>
    (await http(app.url, 'GET', `/api/notifications/deliveries?channel_id=${channelId}`, { key: app.adminKey })).body
      .deliveries as Array<Record<string, any>>;
  const publish = (n: number, type = 'job_submitted') =>
    app.app.get(EventsService).publishMany(
      Array.from({ length: n }, (_, i) => ({
        type,
        jobId: `job-${i}`,
        data: {
          status: 'pending',
          provider: 'simulator',
          config_name: `c${i}`,
          cost_estimate: 1,
          requires_approval: false,
        },
      })) as never,
    );

  beforeAll(async () => {
    await receiver.start();
    app = await startTestApp({
      env: {
        SIMPLETUNER_SECRET_KEY: SECRET_KEY,
        SIMPLETUNER_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
        SIMPLETUNER_NOTIFY_INTERVAL: '0.2',
        SIMPLETUNER_NOTIFY_RETRY_BASE_SECONDS: '0.05',
        SIMULATOR_STEP_SECONDS: '0.2',
        SIMPLETUNER_QUEUE_INTERVAL: '1',
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await receiver.stop();
  });
  beforeEach(() => receiver.reset());

  it('delivers a job’s completion to a webhook, signed so that the standardwebhooks package verifies it', async () => {
    const channel = await createWebhook('/done', ['job.completed']);
    expect(channel.signing_secret).toMatch(/^whsec_/);
    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { config_name: 'notify-me', config: { steps: 2 } },
    });
    expect(submit.status).toBe(201);
    const jobId = submit.body.job_id as string;
    await receiver.waitFor((r) => r.some((x) => x.json?.data?.job_id === jobId), 30_000, 'job.completed');
    const got = receiver.requests.find((x) => x.json?.data?.job_id === jobId)!;
    expect(got.json).toMatchObject({ type: 'job.completed', data: { job_id: jobId, status: 'completed' } });
    const verified = new Webhook(channel.signing_secret).verify(got.body, {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    });
    expect(verified).toMatchObject({ type: 'job.completed' });
    const [delivery] = await deliveriesOf(channel.id);
    expect(delivery).toMatchObject({
      id: got.headers['webhook-id'],
      status: 'succeeded',
      attempts: 1,
      last_status_code: 200,
    });
  });

  it('retries a failing receiver with the same webhook-id; the log shows three attempts; redeliver sends it again', async () => {
    const channel = await createWebhook('/flaky', ['job.submitted'], 'global');
    receiver.answer = (_r, n) => (n <= 2 ? { status: 503, body: 'busy' } : { status: 200, body: 'thanks' });
    await publish(1);
    await receiver.waitFor((r) => r.length >= 3, 20_000, 'three attempts');
    const ids = new Set(receiver.requests.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    let [delivery] = await deliveriesOf(channel.id);
    for (let i = 0; i < 50 && delivery.status === 'pending'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      [delivery] = await deliveriesOf(channel.id);
    }
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: 3,
      last_status_code: 200,
      response_excerpt: 'thanks',
    });

    const again = await http(app.url, 'POST', `/api/notifications/deliveries/${delivery.id}/redeliver`, {
      key: app.adminKey,
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: delivery.id, status: 'succeeded', attempts: 4 });
    expect(receiver.requests).toHaveLength(4);
    expect(receiver.requests[3].headers['webhook-id']).toBe(delivery.id);
  });

  it('a 4xx is final; a channel whose last 20 deliveries failed is disabled and audited', async () => {
    const channel = await createWebhook('/gone', ['job.submitted'], 'global');
    receiver.answer = () => ({ status: 410, body: 'gone' });
    await publish(20);
    const until = Date.now() + 30_000;
    let view = (await http(app.url, 'GET', `/api/notifications/channels/${channel.id}`, { key: app.adminKey })).body;
    while (view.is_active && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      view = (await http(app.url, 'GET', `/api/notifications/channels/${channel.id}`, { key: app.adminKey })).body;
    }
    expect(view).toMatchObject({ is_active: false, disabled_reason: expect.stringMatching(/20/) });
    const failed = (await deliveriesOf(channel.id)).filter((d) => d.status === 'failed');
    expect(failed).toHaveLength(20);
    expect(failed.every((d) => d.attempts === 1 && d.last_status_code === 410)).toBe(true);
    const audit = await http(
      app.url,
      'GET',
      `/api/audit?action=notification_channel.channel_disabled&target_id=${channel.id}`,
      { key: app.adminKey },
    );
    expect(audit.body.entries.map((e: { target: { id: string } }) => e.target.id)).toContain(channel.id);
  });

  it('manages channels: test, rotate-secret, patch, delete; 404 for unknown ids, 403 for scopes not the caller’s, 400 for bad config', async () => {
    const channel = await createWebhook('/manage', ['job.failed']);
    const test = await http(app.url, 'POST', `/api/notifications/channels/${channel.id}/test`, { key: app.adminKey });
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ status: 'succeeded', status_code: 200, error: null });
    expect(receiver.requests[0].json).toMatchObject({ type: 'test' });
    expect(receiver.requests[0].headers['webhook-id']).toBe(test.body.delivery_id);

    receiver.answer = () => ({ status: 500, body: 'boom' });
    const failing = await http(app.url, 'POST', `/api/notifications/channels/${channel.id}/test`, {
      key: app.adminKey,
    });
    expect(failing.body).toMatchObject({ status: 'failed', status_code: 500, error: 'HTTP 500' });

    const rotated = await http(app.url, 'POST', `/api/notifications/channels/${channel.id}/rotate-secret`, {
      key: app.adminKey,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.signing_secret).toMatch(/^whsec_/);
    expect(rotated.body.signing_secret).not.toBe(channel.signing_secret);
    receiver.reset();
    await http(app.url, 'POST', `/api/notifications/channels/${channel.id}/test`, { key: app.adminKey });
    const r = receiver.requests[0];
    const headers = Object.fromEntries(
      ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(r.headers[h])]),
    );
    expect(() => new Webhook(rotated.body.signing_secret).verify(r.body, headers)).not.toThrow();
    expect(() => new Webhook(channel.signing_secret).verify(r.body, headers)).toThrow();

    const patched = await http(app.url, 'PATCH', `/api/notifications/channels/${channel.id}`, {
      key: app.adminKey,
      body: { is_active: false, events: ['job.failed', 'job.cancelled'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      is_active: false,
      events: ['job.failed', 'job.cancelled'],
      has_signing_secret: true,
    });
    expect(patched.body.signing_secret).toBeUndefined();
    const list = await http(app.url, 'GET', '/api/notifications/channels', { key: app.adminKey });
    expect(list.status).toBe(200);
    expect(list.body.channels.map((c: { id: string }) => c.id)).toContain(channel.id);
    const all = await http(app.url, 'GET', '/api/notifications/deliveries?status=failed&limit=5', {
      key: app.adminKey,
    });
    expect(all.status).toBe(200);
    expect(all.body.deliveries.every((d: { status: string }) => d.status === 'failed')).toBe(true);

    const deleted = await http(app.url, 'DELETE', `/api/notifications/channels/${channel.id}`, { key: app.adminKey });
    expect(deleted).toMatchObject({ status: 200, body: { deleted: true, id: channel.id } });
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const [method, path] of [
      ['GET', `/api/notifications/channels/${channel.id}`],
      ['PATCH', `/api/notifications/channels/${unknown}`],
      ['DELETE', `/api/notifications/channels/${unknown}`],
      ['POST', `/api/notifications/channels/${unknown}/rotate-secret`],
      ['POST', `/api/notifications/channels/${unknown}/test`],
      ['POST', `/api/notifications/deliveries/${unknown}/redeliver`],
    ] as const) {
      const res = await http(app.url, method, path, {
        key: app.adminKey,
        ...(method === 'PATCH' ? { body: { name: 'x' } } : {}),
      });
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }

    const org = await makeOrg(app, 'notify-org');
    const researcher = await makeUser(app, 'notify-researcher', 'researcher', org);
    const lead = await makeUser(app, 'notify-lead', 'lead', org);
    const body = (owner_scope: string) => ({
      kind: 'slack',
      name: owner_scope,
      owner_scope,
      config: { url: `${receiver.url}/slack` },
      events: ['job.completed'],
    });
    for (const [key, scope] of [
      [researcher.key, 'org'],
      [lead.key, 'global'],
    ] as const) {
      const res = await http(app.url, 'POST', '/api/notifications/channels', { key, body: body(scope) });
      expect(res.status).toBe(403);
    }
    const own = await http(app.url, 'POST', '/api/notifications/channels', { key: researcher.key, body: body('user') });
    expect(own.status).toBe(201);
    expect(own.body.signing_secret).toBeUndefined();
    const orgChannel = await http(app.url, 'POST', '/api/notifications/channels', { key: lead.key, body: body('org') });
    expect(orgChannel.status).toBe(201);
    // The lead sees its org's channel and its researcher's; the researcher only its own.
    const leadList = (await http(app.url, 'GET', '/api/notifications/channels', { key: lead.key })).body.channels;
    expect(leadList.map((c: { id: string }) => c.id).sort()).toEqual([own.body.id, orgChannel.body.id].sort());
    const mine = await http(app.url, 'GET', `/api/notifications/channels/${orgChannel.body.id}`, {
      key: researcher.key,
    });
    expect(mine.status).toBe(404);

    for (const bad of [
      { kind: 'webhook', name: 'x', config: { url: 'ftp://example.com/x' }, events: ['job.failed'] },
      { kind: 'webhook', name: 'x', config: {}, events: ['job.failed'] },
      { kind: 'webhook', name: 'x', config: { url: `${receiver.url}/x` }, events: ['job.exploded'] },
      { kind: 'email', name: 'x', config: { recipients: [] }, events: ['job.failed'] },
    ]) {
      const res = await http(app.url, 'POST', '/api/notifications/channels', { key: app.adminKey, body: bad });
      expect([bad, res.status]).toEqual([bad, 400]);
    }
    expect(
      (
        await http(app.url, 'POST', '/api/notifications/channels', {
          key: app.adminKey,
          body: { kind: 'webhook', name: 'x', config: { url: 'ftp://example.com/x' }, events: ['job.failed'] },
        })
      ).body.message,
    ).toMatch(/config\.url/);
  });
});
