import { publishEvent } from '../support/events';
import { openSse } from '../support/sse-client';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * A live stream says where it starts (X-Last-Event-ID): a client that drops before its first event resumes from
 * there and misses nothing published in between.
 */
describe('the start position of a live stream', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
  });
  afterAll(() => app?.stop());

  it('is sent as X-Last-Event-ID, and resuming from it replays what came after', async () => {
    const before = await publishEvent(app.app, { type: 'job_submitted', jobId: 'job-start' });
    const live = await openSse(app.url, '/api/events', { key: app.adminKey, query: { job_id: 'job-start' } });
    await live.waitFor((s) => s.comments.includes('connected'));
    expect(live.headers['x-last-event-id']).toBe(before.id);
    // The client drops before any event arrives; two are published meanwhile.
    await live.close();
    const missed = [
      await publishEvent(app.app, { type: 'job_status_changed', jobId: 'job-start' }),
      await publishEvent(app.app, { type: 'job_status_changed', jobId: 'job-start' }),
    ];
    const again = await openSse(app.url, '/api/events', {
      key: app.adminKey,
      query: { job_id: 'job-start' },
      headers: { 'Last-Event-ID': String(live.headers['x-last-event-id']) },
    });
    await again.waitForMessages(2);
    expect(again.messages.map((m) => m.id)).toEqual(missed.map((e) => e.id));
    expect(again.headers['x-last-event-id']).toBeUndefined(); // a resumed stream knows where it is
    await again.close();
  });
});
