import { QueueService } from '../../src/queue/queue.service';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** Replicate jobs through the whole app: cancel, delete, provider failures, unknown create outcome. */
describe('Replicate jobs end to end (PostgreSQL, fake Replicate)', () => {
  let app: TestApp;
  let fake: FakeReplicate;

  beforeAll(async () => {
    fake = await startFakeReplicate();
    app = await startTestApp({
      env: {
        REPLICATE_API_BASE: fake.url,
        REPLICATE_API_TOKEN: fake.token,
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
        SIMPLETUNER_HTTP_TIMEOUT: '1',
        SIMPLETUNER_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'ERROR',
      },
    });
    // Several of these tests leave jobs active: keep the per-user limit out of the way.
    await http(app.url, 'PUT', '/api/queue/concurrency', {
      key: app.adminKey,
      body: { max_concurrent: 50, user_max_concurrent: 50, org_max_concurrent: 50 },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });

  const get = async (jobId: string) =>
    (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey })).body;

  async function submitAndDispatch(
    config: Record<string, unknown> = {},
    wait = true,
  ): Promise<{ jobId: string; job: any }> {
    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      headers: { 'X-Correlation-ID': `submit-${Date.now()}` },
      body: { config_name: 'r', config },
    });
    expect(submit.status).toBe(201);
    const jobId = submit.body.job_id as string;
    let job = await get(jobId);
    for (let i = 0; i < (wait ? 50 : 1) && job.status === 'pending'; i++) {
      await http(app.url, 'POST', '/api/queue/process', { key: app.adminKey });
      job = await get(jobId);
      if (job.status === 'pending') await new Promise((r) => setTimeout(r, 200));
    }
    return { jobId, job };
  }

  it('defaults to replicate when a token is set and cancels a running job at the provider', async () => {
    const { jobId, job } = await submitAndDispatch();
    expect(job).toMatchObject({ provider: 'replicate', status: 'queued', external_id: expect.any(String) });
    await fake.setStatus(job.external_id, 'processing');
    await http(app.url, 'PUT', '/api/cloud/polling/setting', { key: app.adminKey, body: { enabled: true } });
    expect((await get(jobId)).status).toBe('queued');

    const del = await http(app.url, 'DELETE', `/api/cloud/jobs/${jobId}`, { key: app.adminKey });
    expect(del.status).toBe(409);
    expect(del.body).toMatchObject({ error: 'invalid_job_state', details: { job_id: jobId, current_state: 'queued' } });

    const cancel = await http(app.url, 'POST', `/api/cloud/jobs/${jobId}/cancel`, { key: app.adminKey });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    expect(fake.count('POST', new RegExp(`^/predictions/${job.external_id}/cancel$`))).toBe(1);
    expect(fake.predictions.get(job.external_id)!.status).toBe('canceled');
    expect((await http(app.url, 'DELETE', `/api/cloud/jobs/${jobId}`, { key: app.adminKey })).status).toBe(200);
  });

  it('does not send a create again when it timed out after Replicate received it', async () => {
    fake.stallNext(1, Infinity, { method: 'POST', path: /^\/predictions$/, applyFirst: true });
    const creates = fake.count('POST', /^\/predictions$/);
    const { jobId } = await submitAndDispatch({ marker: 'stalled' }, false);
    // Wait until the create was sent and given up on (1 s timeout), then run the queue's tick as if its
    // dispatch grace period (60 s) had passed: it reconciles by job_id instead of creating again.
    for (let i = 0; i < 50 && fake.count('POST', /^\/predictions$/) === creates; i++)
      await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get(jobId)).external_id).toBeNull();
    await app.app.get(QueueService).processTick(new Date(Date.now() + 10 * 60_000));
    expect(fake.count('POST', /^\/predictions$/)).toBe(creates + 1);
    const prediction = [...fake.predictions.values()].find((p) => p.input.job_id === jobId)!;
    expect(prediction).toBeDefined();
    expect((await get(jobId)).external_id).toBe(prediction.id);
  });

  it('carries out a cancel made while the create is in flight once the dispatch outcome is known', async () => {
    fake.stallNext(1, 1500, { method: 'POST', path: /^\/predictions$/, applyFirst: true });
    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      headers: { 'X-Correlation-ID': 'submit-late-cancel' },
      body: { config_name: 'late-cancel', config: {} },
    });
    const jobId = submit.body.job_id as string;
    const tick = http(app.url, 'POST', '/api/queue/process', { key: app.adminKey });
    const p = await fake.waitForPrediction(jobId);
    expect(p).toBeDefined();
    const cancel = await http(app.url, 'POST', `/api/cloud/jobs/${jobId}/cancel`, { key: app.adminKey });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    await tick;
    // The create outlives the 1 s client timeout (outcome unknown); the queue's reconcile (run as if its grace
    // period had passed) finds the prediction by job_id and, the job being cancelled, cancels it at Replicate.
    await new Promise((r) => setTimeout(r, 1500));
    await app.app.get(QueueService).processTick(new Date(Date.now() + 10 * 60_000));
    for (let i = 0; i < 40 && p!.status !== 'canceled'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(p!.status).toBe('canceled');
    expect((await get(jobId)).status).toBe('cancelled');
  });

  it('leaves the job unchanged on a provider failure (502), then fails fast with 503 once the breaker is open', async () => {
    const { jobId, job } = await submitAndDispatch();
    fake.failNext(5, 500, { path: /\/cancel$/ });
    const first = await http(app.url, 'POST', `/api/cloud/jobs/${jobId}/cancel`, { key: app.adminKey });
    expect(first.status).toBe(502);
    expect(first.body.error).toBe('provider_error');
    expect((await get(jobId)).status).toBe('queued');
    const second = await http(app.url, 'POST', `/api/cloud/jobs/${jobId}/cancel`, { key: app.adminKey });
    expect(second.status).toBe(502);
    const before = fake.requests.length;
    const open = await http(app.url, 'POST', `/api/cloud/jobs/${jobId}/cancel`, { key: app.adminKey });
    expect(open.status).toBe(503);
    expect(open.body.error).toBe('provider_unavailable');
    expect(fake.requests.length).toBe(before);
    expect((await get(jobId)).status).toBe('queued');
    // (Half-opening after the open period is covered by the client test with a short period.)
    expect(fake.predictions.get(job.external_id)!.status).toBe('starting');
  });

  it('sent a non-empty X-Correlation-ID with every request to Replicate', () => {
    expect(fake.requests.length).toBeGreaterThan(5);
    const bad = fake.requests.filter(
      (r) =>
        typeof r.headers['x-correlation-id'] !== 'string' ||
        !/^[A-Za-z0-9._:-]{1,128}$/.test(r.headers['x-correlation-id']),
    );
    expect(bad).toEqual([]);
    // Dispatch calls carry the submit request's id.
    const creates = fake.requests.filter((r) => r.method === 'POST' && r.path === '/predictions');
    expect(creates.every((r) => String(r.headers['x-correlation-id']).startsWith('submit-'))).toBe(true);
  });
});
