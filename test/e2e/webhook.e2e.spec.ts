import { randomBytes } from 'node:crypto';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { WebhookService } from '../../src/jobs/webhook.service';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** Signed Replicate webhooks, applied once, refused when unsigned or stale. */
describe('Replicate webhooks (PostgreSQL, fake Replicate)', () => {
  let app: TestApp;
  let fake: FakeReplicate;
  let db: DataSource;
  let hook: string;

  beforeAll(async () => {
    fake = await startFakeReplicate();
    app = await startTestApp({
      env: {
        REPLICATE_API_BASE: fake.url,
        REPLICATE_API_TOKEN: fake.token,
        // The configured webhook secret is stored encrypted.
        SIMPLETUNER_SECRET_KEY: randomBytes(32).toString('base64'),
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
        SIMPLETUNER_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'ERROR',
      },
    });
    db = app.app.get<DataSource>(getDataSourceToken());
    hook = `${app.url}/api/webhooks/replicate`;
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });

  async function dispatchedJob(): Promise<{ jobId: string; predictionId: string }> {
    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { config_name: 'wh', config: { steps: 1 }, provider: 'replicate', hardware_profile: 'l40s' },
    });
    expect(submit.status).toBe(201);
    const jobId = submit.body.job_id as string;
    // A queue tick may already be running (then /process returns at once): wait for the dispatch.
    let job = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey });
    for (let i = 0; i < 50 && !job.body.external_id; i++) {
      expect((await http(app.url, 'POST', '/api/queue/process', { key: app.adminKey })).status).toBeLessThan(300);
      job = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey });
      if (!job.body.external_id) await new Promise((r) => setTimeout(r, 200));
    }
    expect(job.body).toMatchObject({ status: 'queued', external_id: expect.any(String) });
    const prediction = fake.predictions.get(job.body.external_id)!;
    expect(prediction.input.job_id).toBe(jobId);
    return { jobId, predictionId: prediction.id };
  }

  const status = async (jobId: string) =>
    (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey })).body;
  const events = async (jobId: string, type: string) =>
    Number(
      (await db.query(`SELECT count(*)::int AS n FROM events WHERE job_id = $1 AND type = $2`, [jobId, type]))[0].n,
    );

  it('applies a valid webhook once even when delivered three times', async () => {
    const { jobId, predictionId } = await dispatchedJob();
    const p = await fake.setStatus(predictionId, 'succeeded', { predictTime: 600 });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await fake.sendWebhook(hook, p, { webhookId: 'msg_same_1' }));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(JSON.parse(results[0].body)).toMatchObject({ outcome: 'applied', job_id: jobId });
    expect(JSON.parse(results[1].body).outcome).toBe('duplicate');
    const job = await status(jobId);
    expect(job).toMatchObject({ status: 'completed', output_url: expect.stringContaining(predictionId) });
    expect(job.cost_usd).toBeCloseTo(600 * 0.000972222, 5);
    expect(await events(jobId, 'cloud_job_update')).toBe(1);
    expect(await events(jobId, 'job_status_changed')).toBe(2); // pending→queued (dispatch), queued→completed
  });

  it('refuses a missing header, a wrong signature and a 10-minute-old timestamp with 401 and changes nothing', async () => {
    const { jobId, predictionId } = await dispatchedJob();
    const p = await fake.setStatus(predictionId, 'processing');
    const missing = await fake.sendWebhook(hook, p, { omit: ['webhook-signature'] });
    const wrongSecret = await fake.sendWebhook(hook, p, {
      secret: `whsec_${Buffer.from('not the secret').toString('base64')}`,
    });
    const garbage = await fake.sendWebhook(hook, p, { signature: 'v1,AAAA' });
    const old = await fake.sendWebhook(hook, p, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    const noId = await fake.sendWebhook(hook, p, { omit: ['webhook-id'] });
    for (const r of [missing, wrongSecret, garbage, old, noId]) {
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'invalid_signature', correlation_id: expect.any(String) });
    }
    expect((await status(jobId)).status).toBe('queued');
    expect(await events(jobId, 'cloud_job_update')).toBe(0);
    // The same prediction, properly signed, is accepted.
    const ok = await fake.sendWebhook(hook, p);
    expect(ok.status).toBe(200);
    expect((await status(jobId)).status).toBe('running');
  });

  it('ignores a late `processing` after `succeeded`', async () => {
    const { jobId, predictionId } = await dispatchedJob();
    const done = await fake.setStatus(predictionId, 'succeeded');
    const processingBody = { ...done, status: 'processing', completed_at: null };
    expect((await fake.sendWebhook(hook, done)).status).toBe(200);
    const changesBefore = await events(jobId, 'job_status_changed');
    const late = await fake.sendWebhook(hook, processingBody);
    expect(late.status).toBe(200);
    expect(JSON.parse(late.body).outcome).toBe('unchanged');
    expect((await status(jobId)).status).toBe('completed');
    expect(await events(jobId, 'job_status_changed')).toBe(changesBefore);
  });

  it('acknowledges a webhook for an unknown prediction, and uses the configured secret when one is set', async () => {
    const stranger = fake.addPrediction({ status: 'succeeded', input: {} });
    const res = await fake.sendWebhook(hook, stranger);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).outcome).toBe('unknown_prediction');

    const secret = `whsec_${Buffer.from('configured-secret-0123456789').toString('base64')}`;
    const put = await http(app.url, 'PUT', '/api/cloud/providers/replicate/config', {
      key: app.adminKey,
      body: { webhook_secret: secret },
    });
    expect(put.status).toBe(200);
    expect(put.body).not.toHaveProperty('webhook_secret');
    expect(put.body.webhook_secret_set).toBe(true);
    expect(
      JSON.stringify((await http(app.url, 'GET', '/api/cloud/providers/replicate/config', { key: app.adminKey })).body),
    ).not.toContain(secret);
    const { jobId, predictionId } = await dispatchedJob();
    const p = await fake.setStatus(predictionId, 'processing');
    expect((await fake.sendWebhook(hook, p)).status).toBe(401); // signed with Replicate's default secret
    expect((await fake.sendWebhook(hook, p, { secret })).status).toBe(200);
    expect((await status(jobId)).status).toBe('running');
  });

  it('matches a webhook that arrives while the create is still in flight by the job_id in the input', async () => {
    // Earlier tests left jobs running: make room under the per-user limit.
    const limits = await http(app.url, 'PUT', '/api/queue/concurrency', {
      key: app.adminKey,
      body: { max_concurrent: 50, user_max_concurrent: 50, org_max_concurrent: 50 },
    });
    expect(limits.status).toBe(200);
    await http(app.url, 'PUT', '/api/cloud/providers/replicate/config', {
      key: app.adminKey,
      body: { webhook_secret: null },
    });
    fake.stallNext(1, 2500, { method: 'POST', path: /^\/predictions$/, applyFirst: true });
    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { config_name: 'early', config: {}, provider: 'replicate' },
    });
    const jobId = submit.body.job_id as string;
    const tick = http(app.url, 'POST', '/api/queue/process', { key: app.adminKey });
    const p = await fake.waitForPrediction(jobId);
    expect(p).toBeDefined();
    const res = await fake.sendWebhook(hook, await fake.setStatus(p!.id, 'processing'));
    expect(JSON.parse(res.body)).toMatchObject({ outcome: 'applied', job_id: jobId });
    expect(await status(jobId)).toMatchObject({ status: 'running', external_id: p!.id });
    await tick;
    // Let the late create answer (2.5 s) be recorded: the `queued` it reports is older news and must not win.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await status(jobId)).toMatchObject({ status: 'running', external_id: p!.id });
    expect([...fake.predictions.values()].filter((x) => x.input.job_id === jobId)).toHaveLength(1);
  });

  it('forgets webhook ids after 24 hours', async () => {
    await db.query(
      `INSERT INTO webhook_deliveries (webhook_id, provider, received_at) VALUES ('msg_old', 'replicate', now() - interval '25 hours')`,
    );
    const kept = Number(
      (await db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id <> 'msg_old'`))[0].n,
    );
    expect(await app.app.get(WebhookService).purgeDeliveries()).toBe(1);
    expect(Number((await db.query(`SELECT count(*)::int AS n FROM webhook_deliveries`))[0].n)).toBe(kept);
  });

  it('sent X-Correlation-ID on every call to the fake Replicate', () => {
    expect(fake.requests.length).toBeGreaterThan(0);
    for (const r of fake.requests) expect(r.headers['x-correlation-id']).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });
});
