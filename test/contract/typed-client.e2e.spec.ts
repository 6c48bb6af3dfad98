import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import createClient from 'openapi-fetch';
import type { components, paths } from '../../client/openapi';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

/**
 * The consumer's path: the types `npm run client:types` generates from openapi.json, used with openapi-fetch
 * against the running app. This file is compiled with the type checker (jest.config.js): a use of the API that the
 * document does not allow fails the test before it runs.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const TYPES_FILE = path.join(ROOT, 'client', 'openapi.d.ts');

type Job = components['schemas']['JobView'];
type JobStatus = components['schemas']['JobStatus'];

describe('a typed client generated from the document', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
  });
  afterAll(() => app?.stop());

  it('is what `npm run client:types` generates from the committed openapi.json', () => {
    // The generator's own command line (an ES module, which Jest's module loader cannot run in-process).
    const dir = makeTempDir('st-client-types-');
    try {
      const out = path.join(dir, 'openapi.d.ts');
      const cli = path.join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
      execFileSync(process.execPath, [cli, 'openapi.json', '--output', out], { cwd: ROOT, stdio: 'pipe' });
      const fresh = fs.readFileSync(out, 'utf8') === fs.readFileSync(TYPES_FILE, 'utf8');
      if (!fresh) throw new Error('client/openapi.d.ts is out of date: run npm run client:types');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('submits a job, reads it and cancels it', async () => {
    const client = createClient<paths>({ baseUrl: app.url, headers: { 'X-API-Key': app.adminKey } });

    const submitted = await client.POST('/api/cloud/jobs/submit', {
      body: { config_name: 'typed-client', config: { max_steps: 10 }, hardware_profile: 'l40s' },
    });
    expect(submitted.response.status).toBe(201);
    const jobId: string = submitted.data!.job_id;

    const read = await client.GET('/api/cloud/jobs/{id}', { params: { path: { id: jobId } } });
    const job: Job | undefined = read.data;
    expect(job?.config_name).toBe('typed-client');
    const status: JobStatus | undefined = job?.status;
    expect(['pending', 'queued', 'running']).toContain(status);

    const cancelled = await client.POST('/api/cloud/jobs/{id}/cancel', { params: { path: { id: jobId } } });
    expect(cancelled.data?.status).toBe('cancelled');

    // Errors are typed too: cancelling again is a 409 with the job's state in `details`.
    const again = await client.POST('/api/cloud/jobs/{id}/cancel', { params: { path: { id: jobId } } });
    expect(again.response.status).toBe(409);
    expect(again.error).toMatchObject({ error: 'invalid_job_state', details: { current_state: 'cancelled' } });

    const listed = await client.GET('/api/cloud/jobs', { params: { query: { status: 'cancelled', limit: 10 } } });
    expect(listed.data?.jobs.map((j) => j.job_id)).toContain(jobId);
  });

  it('refuses, at compile time, what the document does not allow', () => {
    const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:1' });
    // Never called: these lines exist for the type checker, which fails this file if any of them compiles.
    const misuses = () => [
      // @ts-expect-error config_name is a string
      client.POST('/api/cloud/jobs/submit', { body: { config_name: 1, config: {} } }),
      // @ts-expect-error the job id is a path parameter, not optional
      client.GET('/api/cloud/jobs/{id}', {}),
      // @ts-expect-error there is no such route
      client.GET('/api/cloud/job'),
      // @ts-expect-error a list's limit is a number
      client.GET('/api/cloud/jobs', { params: { query: { limit: 'many' } } }),
    ];
    expect(typeof misuses).toBe('function');
  });
});
