import { NotificationListener } from '../../src/database/notification-listener';
import { StoredEvent } from '../../src/events';
import { openSse, SseStream } from '../support/sse-client';
import { inTransaction, publishEvent, publishIn, TestEvent } from '../support/events';
import { startTestApp, TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The embedded database: one process, one connection, no LISTEN; the wake-up after commit is in-process. */
describe('events on PGlite', () => {
  let app: TestApp;
  const streams: SseStream[] = [];
  const publish = (e: TestEvent): Promise<StoredEvent> => publishEvent(app.app, e);

  async function stream(headers: Record<string, string> = {}): Promise<SseStream> {
    const s = await openSse(app.url, '/api/events', { key: app.adminKey, headers, query: { job_id: 'job-p' } });
    streams.push(s);
    expect(s.status).toBe(200);
    await s.waitFor((x) => x.comments.includes('connected'));
    return s;
  }

  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite' });
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await app?.stop();
  });

  it('has no LISTEN connection (PGlite serves one) and wakes streams right after commit', async () => {
    expect(app.app.get(NotificationListener).backendPid).toBeNull();
    const s = await stream();
    for (let n = 0; n < 3; n++) {
      const started = Date.now();
      const e = await publish({ type: 'job_status_changed', jobId: 'job-p', data: { n } });
      await s.waitFor((x) => x.messages.some((m) => m.id === e.id), 1000, `event ${n}`);
      // The catch-up poll runs every 5 s: this is the commit hook.
      expect(Date.now() - started).toBeLessThan(1000);
    }
  });

  it('delivers nothing for a rolled-back publish, and replays missed events after a reconnect', async () => {
    const s = await stream();
    const seen = await publish({ type: 'job_submitted', jobId: 'job-p', data: { n: 10 } });
    await s.waitFor((x) => x.messages.some((m) => m.id === seen.id));
    await s.close();
    await expect(
      inTransaction(app.app, async () => {
        await publishIn(app.app, { type: 'job_status_changed', jobId: 'job-p', data: { n: 'rolled back' } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const missed = [];
    for (let n = 11; n <= 20; n++)
      missed.push(await publish({ type: 'job_status_changed', jobId: 'job-p', data: { n } }));
    const again = await stream({ 'Last-Event-ID': seen.id });
    await again.waitForMessages(10);
    await sleep(200);
    expect(again.messages.map((m) => m.id)).toEqual(missed.map((e) => e.id));
    expect(again.messages.some((m) => m.json.n === 'rolled back')).toBe(false);
  });

  it('publishes outside a transaction (autocommit manager) and wakes at once', async () => {
    const s = await stream();
    const e = await publishIn(app.app, { type: 'job_dispatched', jobId: 'job-p' });
    await s.waitFor((x) => x.messages.some((m) => m.id === e.id), 1000, 'autocommitted event');
  });
});
