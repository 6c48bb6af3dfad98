import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { EVENT_RETENTION_TASK } from '../../src/events';
import { publishEvents } from '../support/events';
import { BackgroundTaskManager } from '../../src/scheduling';
import { http } from '../support/http';
import { openSse } from '../support/sse-client';
import { makeTempDir, startTestApp, TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('event retention, metrics and key hygiene', () => {
  let app: TestApp;
  let db: DataSource;
  const logDir = makeTempDir('st-events-log-');
  const logFile = path.join(logDir, 'cloud.log');

  beforeAll(async () => {
    app = await startTestApp({
      env: { SIMPLETUNER_EVENT_RETENTION_DAYS: '3', SIMPLETUNER_LOG_LEVEL: 'DEBUG', SIMPLETUNER_LOG_FILE: logFile },
    });
    db = app.app.get(DataSource);
  });
  afterAll(async () => {
    await app?.stop();
    fs.rmSync(logDir, { recursive: true, force: true });
  });

  it('the retention task purges events older than SIMPLETUNER_EVENT_RETENTION_DAYS and keeps the rest', async () => {
    const [old, recent, fresh] = await publishEvents(app.app, [
      { type: 'job_submitted', jobId: 'job-old' },
      { type: 'job_submitted', jobId: 'job-recent' },
      { type: 'job_submitted', jobId: 'job-fresh' },
    ]);
    await db.query(`UPDATE events SET created_at = now() - interval '4 days' WHERE id = $1`, [old.id]);
    await db.query(`UPDATE events SET created_at = now() - interval '2 days' WHERE id = $1`, [recent.id]);

    await app.app.get(BackgroundTaskManager).runTick(EVENT_RETENTION_TASK);

    const left = await db.query(`SELECT id::text AS id FROM events WHERE id = ANY($1::bigint[]) ORDER BY id`, [
      [old.id, recent.id, fresh.id],
    ]);
    expect(left.map((r: { id: string }) => r.id)).toEqual([recent.id, fresh.id]);
    const state = app.app.get(BackgroundTaskManager).getState(EVENT_RETENTION_TASK);
    expect(state).toMatchObject({ runs: 1, failures: 0, last_error: null });
  });

  it('exports simpletuner_sse_connections', async () => {
    const a = await openSse(app.url, '/api/events', { key: app.adminKey });
    const b = await openSse(app.url, '/api/events', { key: app.adminKey });
    await a.waitFor((x) => x.comments.includes('connected'));
    await b.waitFor((x) => x.comments.includes('connected'));
    const open = await http(app.url, 'GET', '/metrics');
    expect(open.text).toMatch(/^simpletuner_sse_connections 2$/m);
    await a.close();
    await b.close();
    await sleep(100);
    const closed = await http(app.url, 'GET', '/metrics');
    expect(closed.text).toMatch(/^simpletuner_sse_connections 0$/m);
  });

  it('never writes an ?api_key= to the log, also when the request fails', async () => {
    const ok = await openSse(app.url, '/api/events', { query: { api_key: app.adminKey } });
    await ok.waitFor((x) => x.comments.includes('connected'));
    await ok.close();
    const bad = await openSse(app.url, '/api/events', { query: { api_key: app.adminKey, last_event_id: 'x' } });
    expect(bad.status).toBe(400);
    const wrongKey = 'st_' + 'Z'.repeat(32);
    const denied = await openSse(app.url, '/api/events', { query: { api_key: wrongKey } });
    expect(denied.status).toBe(401);
    await sleep(300);
    const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(app.adminKey);
    expect(text).not.toContain(wrongKey);
  });
});
