import * as fs from 'node:fs';
import * as path from 'node:path';
import { flushLogs } from '../../src/logging';
import { http } from '../support/http';
import { openSse, SseStream } from '../support/sse-client';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

/** A fresh install with no token runs a job on the simulator to `completed`. */
describe('simulator end to end (PostgreSQL)', () => {
  let app: TestApp;
  let logFile: string;
  let sse: SseStream | undefined;

  beforeAll(async () => {
    logFile = path.join(makeTempDir('st-sim-log-'), 'cloud.log');
    app = await startTestApp({
      env: {
        SIMULATOR_STEP_SECONDS: '1',
        SIMPLETUNER_QUEUE_INTERVAL: '1',
        SIMPLETUNER_LOG_LEVEL: 'DEBUG',
        SIMPLETUNER_LOG_FILE: logFile,
      },
    });
  });
  afterAll(async () => {
    await sse?.close();
    await app?.stop();
    if (logFile) fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
  });

  it('submits on the simulator by default and reaches completed, with events on SSE and one correlation id in the logs', async () => {
    sse = await openSse(app.url, '/api/events', { key: app.adminKey });
    expect(sse.status).toBe(200);

    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      headers: { 'X-Correlation-ID': 'submit-sim-0001' },
      body: { config_name: 'flux-lora', config: { steps: 10, client_secret: 'cs_secret_value' } },
    });
    expect(submit.status).toBe(201);
    expect(submit.body).toMatchObject({
      status: 'pending',
      requires_approval: false,
      cost_estimate: expect.any(Number),
    });
    const jobId: string = submit.body.job_id;

    const completed = (s: SseStream) =>
      s.messages.some(
        (m) => m.event === 'job_status_changed' && m.json?.job_id === jobId && m.json?.status === 'completed',
      );
    await sse.waitFor(completed, 20_000, 'job completed');

    const mine = sse.messages.filter((m) => m.json?.job_id === jobId);
    expect(mine[0]).toMatchObject({ event: 'job_submitted' });
    const changes = mine
      .filter((m) => m.event === 'job_status_changed')
      .map((m) => [m.json.previous_status, m.json.status]);
    expect(changes).toEqual([
      ['pending', 'queued'],
      ['queued', 'running'],
      ['running', 'completed'],
    ]);
    expect(mine.some((m) => m.event === 'job_dispatched')).toBe(true);

    const job = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: app.adminKey });
    expect(job.body).toMatchObject({
      status: 'completed',
      provider: 'simulator',
      is_terminal: true,
      is_active: false,
      queue_position: null,
    });
    expect(job.body.cost_usd).toBeCloseTo(1 * 0.000972222, 6);
    expect(job.body.config.client_secret).toBe('[REDACTED]');
    expect(job.body.correlation_id).toBe('submit-sim-0001');

    await flushLogs();
    const lines = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const jobLines = lines.filter((l) => l.extra?.job_id === jobId);
    expect(jobLines.length).toBeGreaterThanOrEqual(5);
    expect(jobLines.filter((l) => l.correlation_id !== 'submit-sim-0001')).toEqual([]);
    const submitted = lines.find((l) => l.message === 'Job submitted successfully');
    expect(submitted).toMatchObject({
      level: 'INFO',
      correlation_id: 'submit-sim-0001',
      extra: { job_id: jobId, provider: 'simulator' },
    });
    expect(typeof submitted.extra.cost_estimate).toBe('number');
    expect(fs.readFileSync(logFile, 'utf8')).not.toContain('hf_secret_value');
    expect(lines.some((l) => /^Synced \d+ active jobs$/.test(l.message) && l.level === 'DEBUG')).toBe(true);
    expect(lines.find((l) => l.message === 'Starting job status polling')).toMatchObject({
      level: 'INFO',
      extra: { interval_seconds: 30, reason: 'auto: no webhook configured' },
    });
  });

  it('fails a simulated run when config.simulate_failure is true', async () => {
    const submit = await http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key: app.adminKey,
      body: { config_name: 'doomed', config: { simulate_failure: true }, provider: 'simulator' },
    });
    expect(submit.status).toBe(201);
    let job = submit.body;
    for (let i = 0; i < 100 && job.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      job = (await http(app.url, 'GET', `/api/cloud/jobs/${submit.body.job_id}`, { key: app.adminKey })).body;
    }
    expect(job).toMatchObject({ status: 'failed', error_message: expect.stringContaining('simulate_failure') });
  });
});
