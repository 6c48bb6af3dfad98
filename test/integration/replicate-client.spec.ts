import type { HttpClientFactory } from '../../src/http';
import type { Job } from '../../src/jobs/job.entity';
import { providerApiError } from '../../src/jobs/jobs.service';
import type { ProviderConfigService } from '../../src/providers/provider-config.service';
import type { ProviderCredentialsService } from '../../src/providers/provider-credentials.service';
import { ProviderCallError } from '../../src/providers/provider.interface';
import { ReplicateClient } from '../../src/providers/replicate/replicate.client';
import { ReplicateProvider } from '../../src/providers/replicate/replicate.provider';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { httpClientFactory } from '../support/http-factory';

/** Replicate client: retries honouring Retry-After, the circuit breaker, creates never blindly resent. */
describe('Replicate client against the fake Replicate', () => {
  let fake: FakeReplicate;
  let http: HttpClientFactory;
  let n = 0;
  const client = (extra: Partial<ConstructorParameters<typeof ReplicateClient>[1]> = {}) =>
    new ReplicateClient(http, {
      baseUrl: fake.url,
      token: fake.token,
      name: `replicate-test-${++n}`,
      retry: { baseDelayMs: 10 },
      ...extra,
    });
  const noConfig = {
    get: async () => ({ webhookUrl: null, webhookSecret: null, versionOverride: null, hardwareInfo: {} }),
    watch: () => undefined,
  } as unknown as ProviderConfigService;
  const envCredentials = {
    token: async () => ({ token: fake.token, source: 'env' }),
    webhookSecrets: async () => ({ current: null, previous: null }),
  } as unknown as ProviderCredentialsService;

  beforeAll(async () => {
    fake = await startFakeReplicate();
    http = httpClientFactory();
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await fake?.stop();
    await http?.close();
  });

  it('waits for Retry-After: 2 after a 429, then succeeds', async () => {
    const p = fake.addPrediction({ status: 'processing' });
    fake.failNext(1, 429, { path: /^\/predictions\/[^/]+$/, retryAfter: '2' });
    const started = Date.now();
    const got = await client().getPrediction(p.id);
    const elapsed = Date.now() - started;
    expect(got).toMatchObject({ id: p.id, status: 'processing' });
    expect(elapsed).toBeGreaterThanOrEqual(1950);
    expect(elapsed).toBeLessThan(4000);
    expect(fake.count('GET', /^\/predictions\/[^/]+$/)).toBe(2);
  });

  it('opens the breaker after five 500s, fails fast with provider_unavailable, and half-opens later', async () => {
    const p = fake.addPrediction({ status: 'processing' });
    fake.failNext(5, 500);
    const c = client({ breaker: { openMs: 1500 } });
    const codes: string[] = [];
    for (let i = 0; i < 2; i++) {
      const err = await c.getPrediction(p.id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderCallError);
      codes.push(providerApiError(err, 'get').code);
    }
    expect(fake.requests).toHaveLength(5);
    expect(codes).toEqual(['provider_error', 'provider_error']);

    const t0 = Date.now();
    const fast = await c.getPrediction(p.id).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(100);
    expect((fast as ProviderCallError).circuitOpen).toBe(true);
    const apiError = providerApiError(fast, 'get');
    expect([apiError.code, apiError.status]).toEqual(['provider_unavailable', 503]);
    expect(fake.requests).toHaveLength(5); // nothing reached Replicate while open

    await new Promise((r) => setTimeout(r, 1600));
    await expect(c.getPrediction(p.id)).resolves.toMatchObject({ id: p.id });
    expect(fake.requests).toHaveLength(6);
    expect(c.http.circuitState()).toBe('half_open');
    await c.getPrediction(p.id);
    expect(c.http.circuitState()).toBe('closed');
  });

  it('does not resend a create that timed out after the fake received it, and finds it again by job_id', async () => {
    fake.stallNext(1, Infinity, { method: 'POST', path: /^\/predictions$/, applyFirst: true });
    const provider = new ReplicateProvider(client({ timeoutMs: 500 }), noConfig, envCredentials, fake.token);
    const job = {
      jobId: '11111111-2222-4333-8444-555555555555',
      config: {},
      configName: 'c',
      hardwareProfile: 'l40s',
      createdAt: new Date(),
    } as unknown as Job;
    const err = await provider.submit(job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderCallError);
    expect((err as ProviderCallError).outcomeUnknown).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.count('POST', /^\/predictions$/)).toBe(1);
    const found = await provider.findByJobId(job.jobId, new Date(Date.now() - 60_000));
    expect(found).toMatchObject({ status: 'queued', jobId: job.jobId });
    expect(found!.externalId).toBe([...fake.predictions.keys()][0]);
  });

  it('retries a create refused with 429 (it never ran)', async () => {
    fake.failNext(1, 429, { method: 'POST', path: /^\/predictions$/, retryAfter: '0' });
    const created = await client().createPrediction({ version: 'v', input: { job_id: 'x' } });
    expect(created.status).toBe('starting');
    expect(fake.count('POST', /^\/predictions$/)).toBe(2);
    expect(fake.predictions.size).toBe(1);
  });

  it('maps Replicate statuses and treats a 404 on cancel as success', async () => {
    const provider = new ReplicateProvider(client(), noConfig, envCredentials, fake.token);
    const p = fake.addPrediction({ status: 'starting' });
    for (const [raw, ours] of [
      ['starting', 'queued'],
      ['processing', 'running'],
      ['succeeded', 'completed'],
      ['failed', 'failed'],
      ['canceled', 'cancelled'],
      ['aborted', 'cancelled'],
      ['weird', null],
    ] as const) {
      p.status = raw;
      expect((await provider.get(p.id))?.status).toBe(ours);
    }
    await expect(provider.cancel('does-not-exist')).resolves.toBeUndefined();
    await expect(provider.get('does-not-exist')).resolves.toBeNull();
  });

  it('creates a prediction with the trainer input and job_id, the model version of the profile and the configured webhook', async () => {
    const withHook = {
      get: async () => ({
        webhookUrl: 'https://hooks.example/replicate',
        webhookSecret: null,
        versionOverride: null,
        hardwareInfo: {},
      }),
      watch: () => undefined,
    } as unknown as ProviderConfigService;
    const provider = new ReplicateProvider(client(), withHook, envCredentials, fake.token);
    const job = {
      jobId: '99999999-2222-4333-8444-555555555555',
      config: { steps: 3 },
      configName: 'cfg',
      hardwareProfile: 'h100-x2',
      createdAt: new Date(),
    } as unknown as Job;
    const sub = await provider.submit(job);
    expect(sub.status).toBe('queued');
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /models/simpletuner/advanced-trainer-h100-x2/versions',
      'POST /predictions',
    ]);
    expect(fake.requests[1].body).toEqual({
      version: 'ver-advanced-trainer-h100-x2',
      // The trainer's inputs (trainerInput): the config as config_json, nothing spread from it.
      input: { config_json: JSON.stringify({ steps: 3 }), job_id: job.jobId },
      webhook: 'https://hooks.example/replicate',
      webhook_events_filter: ['start', 'completed'],
    });
    expect(fake.requests[1].headers.authorization).toBe(`Bearer ${fake.token}`);
  });

  it('syncs many jobs from list pages and asks again by id only for a finished prediction listed without metrics', async () => {
    const provider = new ReplicateProvider(client(), noConfig, envCredentials, fake.token);
    const a = fake.addPrediction({ status: 'processing' });
    const b = fake.addPrediction({ status: 'succeeded', metrics: {} });
    const jobs = [a, b].map((p) => ({
      externalId: p.id,
      createdAt: new Date(Date.now() - 60_000),
    })) as unknown as Job[];
    const states = await provider.syncMany(jobs);
    expect(fake.count('GET', /^\/predictions$/)).toBe(1);
    expect(fake.count('GET', new RegExp(`^/predictions/${b.id}$`))).toBe(1);
    expect(fake.count('GET', new RegExp(`^/predictions/${a.id}$`))).toBe(0);
    expect(states.get(a.id)?.status).toBe('running');
    expect(states.get(b.id)?.status).toBe('completed');
  });
});
