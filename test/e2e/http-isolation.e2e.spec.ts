import { DataSource } from 'typeorm';
import { ConnectProxy, startConnectProxy } from '../support/connect-proxy';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

const CANCEL = /^\/predictions\/[^/]+\/cancel$/;

/**
 * Two apps in one process, each with its own Replicate: outbound settings (timeout, proxy) and circuit breakers
 * belong to each app. The second app starts last, so a process-wide default would be the second app's.
 */
describe('outbound HTTP belongs to its app (two apps in one process)', () => {
  let proxy: ConnectProxy;
  let fakeA: FakeReplicate;
  let fakeB: FakeReplicate;
  /** 1 s timeout, direct. */
  let appA: TestApp;
  /** 3 s timeout, through a CONNECT proxy. */
  let appB: TestApp;

  const envFor = (fake: FakeReplicate, http: Record<string, string>) => ({
    REPLICATE_API_BASE: fake.url,
    REPLICATE_API_TOKEN: fake.token,
    // Only the test's requests call Replicate: no queue tick or status poll in between.
    SIMPLETUNER_QUEUE_INTERVAL: '3600',
    SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
    ...http,
  });

  beforeAll(async () => {
    proxy = await startConnectProxy();
    [fakeA, fakeB] = await Promise.all([startFakeReplicate(), startFakeReplicate()]);
    appA = await startTestApp({ env: envFor(fakeA, { SIMPLETUNER_HTTP_TIMEOUT: '1' }) });
    appB = await startTestApp({
      env: envFor(fakeB, { SIMPLETUNER_HTTP_TIMEOUT: '3', SIMPLETUNER_HTTP_PROXY: proxy.url }),
    });
  });
  afterAll(async () => {
    await appA?.stop();
    await appB?.stop();
    await fakeA?.stop();
    await fakeB?.stop();
    await proxy?.close();
  });

  /** A job submitted and dispatched to the app's Replicate: its prediction's id. */
  async function queuedJob(app: TestApp): Promise<string> {
    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { config_name: 'isolation', config: {} },
    });
    expect(submit.status).toBe(201);
    const jobId = submit.body.job_id as string;
    await http(app.url, 'POST', '/api/queue/process', { key: app.adminKey });
    const job = (await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey })).body;
    expect(job).toMatchObject({ provider: 'replicate', status: 'queued', external_id: expect.any(String) });
    return jobId;
  }
  const cancel = (app: TestApp, jobId: string) =>
    http(app.url, 'POST', `/api/cloud/jobs/${jobId}/cancel`, { key: app.adminKey });
  const circuitState = async (app: TestApp): Promise<string | undefined> => {
    const { text } = await http(app.url, 'GET', '/metrics');
    const line = text.split('\n').find((l) => l.startsWith('simpletuner_provider_circuit_state{target="replicate"}'));
    return line?.split(' ')[1];
  };

  it('opens one app’s Replicate breaker on its own timeout while the other app keeps its timeout, proxy and closed breaker', async () => {
    const [jobA, jobB] = [await queuedJob(appA), await queuedJob(appB)];

    // Replicate A answers cancels after 1.5 s: too late for A's 1 s timeout (B's 3 s would have waited).
    fakeA.stallNext(5, 1500, { method: 'POST', path: CANCEL });
    const first = await cancel(appA, jobA);
    expect(first.status).toBe(502);
    expect(first.body.error).toBe('provider_error');
    expect(first.body.message).toContain('timed out after 1000 ms');
    expect(fakeA.count('POST', CANCEL)).toBe(3); // the attempt and its two retries
    // Two more timeouts make five in a row: the breaker opens, and the next cancel is refused without a call.
    expect((await cancel(appA, jobA)).status).toBe(502);
    const refused = await cancel(appA, jobA);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('provider_unavailable');
    expect(fakeA.count('POST', CANCEL)).toBe(5);
    expect(await circuitState(appA)).toBe('2');
    // Announced once, to everyone: the event stream's and notifications' provider_circuit_open.
    const opened = (app: TestApp) =>
      app.app
        .get(DataSource)
        .query<{ data: unknown }[]>(`SELECT data FROM events WHERE type = 'provider_circuit_open'`);
    for (let i = 0; i < 50 && (await opened(appA)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await opened(appA)).map((e) => e.data)).toEqual([
      { type: 'provider_circuit_open', provider: 'replicate', failures: 5, open_seconds: 60 },
    ]);

    // The same 1.5 s answer is in time for B's 3 s timeout: one attempt, cancelled, B's breaker closed.
    expect(await circuitState(appB)).toBe('0');
    fakeB.stallNext(1, 1500, { method: 'POST', path: CANCEL });
    const started = Date.now();
    const ok = await cancel(appB, jobB);
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('cancelled');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(fakeB.count('POST', CANCEL)).toBe(1);
    expect(await circuitState(appB)).toBe('0');
    expect(await circuitState(appA)).toBe('2');
    expect(await opened(appB)).toEqual([]);

    // Only B's calls went through B's proxy; A's went direct.
    const hostOf = (fake: FakeReplicate) => new URL(fake.url).host;
    expect(proxy.connects.length).toBeGreaterThan(0);
    expect(new Set(proxy.connects)).toEqual(new Set([hostOf(fakeB)]));
    expect(fakeA.requests.length).toBeGreaterThan(0);
  }, 30_000);
});
