import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flushLogs } from '../../src/logging';
import { http } from '../support/http';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

/**
 * The README's log recipes on the file the app writes: every request of a scripted session is found by its
 * correlation id with grep and jq, and every line about a job by its id.
 */
describe('request trail in the log file', () => {
  let app: TestApp;
  let logFile: string;

  beforeAll(async () => {
    logFile = path.join(makeTempDir(), 'cloud.log');
    app = await startTestApp({
      env: { SIMPLETUNER_LOG_FILE: logFile, SIMPLETUNER_LOG_LEVEL: 'INFO', SIMULATOR_STEP_SECONDS: '0.2' },
    });
  });
  afterAll(() => app?.stop());

  const grep = (id: string) => {
    try {
      return execFileSync('grep', [`"correlation_id": "${id}"`, logFile], { encoding: 'utf8' })
        .trim()
        .split('\n');
    } catch {
      return [];
    }
  };
  const jq = (filter: string) =>
    execFileSync('jq', ['-c', filter], { input: fs.readFileSync(logFile), encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);

  it('finds every request of a session by its correlation id, and every line about a job by its id', async () => {
    const session: Array<[string, string, string, unknown?]> = [
      ['sess-01-me', 'GET', '/api/users/me'],
      ['sess-02-submit', 'POST', '/api/cloud/jobs/submit', { config_name: 'trail', config: { steps: 1 } }],
      ['sess-03-list', 'GET', '/api/cloud/jobs?limit=5'],
      ['sess-04-missing', 'GET', '/api/cloud/jobs/00000000-0000-4000-8000-000000000000'],
      ['sess-05-bad', 'GET', '/api/cloud/jobs?limit=777001'],
      ['sess-06-queue', 'GET', '/api/queue'],
    ];
    let jobId = '';
    for (const [id, method, url, body] of session) {
      const res = await http(app.url, method, url, { key: app.adminKey, body, headers: { 'X-Correlation-ID': id } });
      if (id === 'sess-02-submit') jobId = res.body.job_id;
    }
    for (let i = 0; i < 50; i++) {
      const job = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, {
        key: app.adminKey,
        headers: { 'X-Correlation-ID': `poll-${i}` },
      });
      if (job.body.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await flushLogs();

    for (const [id, method, url] of session) {
      const lines = grep(id).map((l) => JSON.parse(l) as Record<string, any>);
      const requestLine = lines.find((l) => l.logger === 'simpletuner.cloud.http');
      expect(requestLine).toBeDefined();
      expect(requestLine!.message).toMatch(new RegExp(`^${method} ${url.split('?')[0]} \\d{3} \\(`));
      // No query value ever reaches the log.
      expect(JSON.stringify(lines)).not.toContain('777001');
      expect(jq(`select(.correlation_id == "${id}")`)).toHaveLength(lines.length);
    }
    const statuses = Object.fromEntries(
      session.map(([id]) => [
        id,
        grep(id)
          .map((l) => JSON.parse(l))
          .find((l) => l.extra?.status)?.extra.status,
      ]),
    );
    expect(statuses).toMatchObject({
      'sess-01-me': 200,
      'sess-02-submit': 201,
      'sess-04-missing': 404,
      'sess-05-bad': 400,
    });

    // Every line about the job: its submit, the dispatch and each status change, under the submit's id.
    const aboutJob = jq(`select(.extra.job_id == "${jobId}")`);
    const messages = aboutJob.map((l) => l.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'Job submitted successfully',
        'Job dispatched',
        'Job status changed: pending -> queued',
        expect.stringMatching(/-> completed$/),
      ]),
    );
    expect(aboutJob.every((l) => l.correlation_id === 'sess-02-submit')).toBe(true);
  });
});
