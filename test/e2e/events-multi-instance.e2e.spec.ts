import { NotificationListener } from '../../src/database/notification-listener';
import { generateApiKey } from '../../src/auth/api-key.util';
import { StoredEvent } from '../../src/events';
import { openSse, SseStream } from '../support/sse-client';
import { publishEvent, TestEvent } from '../support/events';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase, withAdminClient } from '../support/test-database';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two instances on one database: LISTEN/NOTIFY wakes the other instance, also after its listener is killed. */
describe('events across two instances (PostgreSQL)', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const streams: SseStream[] = [];

  const publishOn = (app: TestApp, e: TestEvent): Promise<StoredEvent> => publishEvent(app.app, e);

  async function streamOn(app: TestApp, headers: Record<string, string> = {}): Promise<SseStream> {
    const s = await openSse(app.url, '/api/events', { key: app.adminKey, headers, query: { job_id: 'job-x' } });
    streams.push(s);
    expect(s.status).toBe(200);
    await s.waitFor((x) => x.comments.includes('connected'));
    return s;
  }

  /** Publishes on A and returns how long B's client took to receive it. */
  async function latencyToB(s: SseStream, n: number): Promise<number> {
    const before = s.messages.length;
    const started = Date.now();
    const e = await publishOn(a, { type: 'job_status_changed', jobId: 'job-x', data: { n } });
    await s.waitFor((x) => x.messages.length > before, 1000, `event ${n} on instance B within 1 s`);
    expect(s.messages[before].id).toBe(e.id);
    return Date.now() - started;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { SIMPLETUNER_ADMIN_API_KEY: generateApiKey() };
    a = await startTestApp({ database, env });
    b = await startTestApp({ database, env });
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await a?.stop();
    await b?.stop();
    await database?.drop();
  });

  it('delivers an event committed through A to a client of B within 1 s', async () => {
    const s = await streamOn(b);
    for (let n = 0; n < 5; n++) expect(await latencyToB(s, n)).toBeLessThan(1000);
  });

  it('still delivers within 1 s after B’s listening connection was killed (pg_terminate_backend)', async () => {
    const s = await streamOn(b);
    const listener = b.app.get(NotificationListener);
    const killed = listener.backendPid;
    expect(killed).toEqual(expect.any(Number));
    const terminated = await withAdminClient((c) => c.query('SELECT pg_terminate_backend($1) AS ok', [killed]));
    expect(terminated.rows[0].ok).toBe(true);
    // Published while B is reconnecting: found by the catch-up read after the reconnect (the poll runs every 5 s).
    expect(await latencyToB(s, 100)).toBeLessThan(1000);
    for (let i = 0; i < 50 && (listener.backendPid === null || listener.backendPid === killed); i++) await sleep(20);
    expect(listener.backendPid).not.toBeNull();
    expect(listener.backendPid).not.toBe(killed);
    expect(await latencyToB(s, 101)).toBeLessThan(1000);
  });

  it('lets a client of A resume on B with Last-Event-ID: no gap, no duplicate', async () => {
    const onA = await streamOn(a);
    const first = await publishOn(a, { type: 'job_submitted', jobId: 'job-x', data: { n: 200 } });
    await onA.waitFor((x) => x.messages.some((m) => m.id === first.id));
    await onA.close();
    const missed = [];
    for (let n = 201; n <= 210; n++)
      missed.push(await publishOn(b, { type: 'job_status_changed', jobId: 'job-x', data: { n } }));
    const onB = await streamOn(b, { 'Last-Event-ID': first.id });
    const live = await publishOn(a, { type: 'job_dispatched', jobId: 'job-x', data: { n: 211 } });
    await onB.waitForMessages(11);
    await sleep(200);
    expect(onB.messages.map((m) => m.id)).toEqual([...missed.map((e) => e.id), live.id]);
  });
});
