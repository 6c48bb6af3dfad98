import { DataSource } from 'typeorm';
import { StoredEvent } from '../../src/events';
import { inTransaction, publishEvent, publishEvents, TestEvent } from '../support/events';
import { openSse, SseStream } from '../support/sse-client';
import { startTestApp, TestApp } from '../support/test-app';

const JOB = 'job-order';
const event = (n: number, batch: string): TestEvent => ({ type: 'job_status_changed', jobId: JOB, data: { n, batch } });

/**
 * Ids cross a power of ten inside one transaction (95..344): a replay or live read that ordered ids as text
 * (`100` before `95`) would skip or repeat events. Every stream must be exactly the tail of the log after its
 * Last-Event-ID, in delivery order, with no gap and no duplicate.
 */
describe.each(['postgres', 'pglite'] as const)('event order across ids of different lengths (%s)', (db) => {
  let app: TestApp;
  let ds: DataSource;
  const publish = (e: TestEvent): Promise<StoredEvent> => publishEvent(app.app, e);

  async function replayFrom(lastEventId: string | null, expectedCount: number): Promise<string[]> {
    const headers: Record<string, string> = lastEventId === null ? {} : { 'Last-Event-ID': lastEventId };
    const stream: SseStream = await openSse(app.url, '/api/events', {
      key: app.adminKey,
      headers,
      query: { job_id: JOB },
    });
    try {
      expect(stream.status).toBe(200);
      await stream.waitForMessages(expectedCount, 10_000);
      // Anything beyond the expected tail (a duplicate, a repeat) would arrive with the same read.
      await new Promise((r) => setTimeout(r, 50));
      return stream.messages.map((m) => m.id ?? '');
    } finally {
      await stream.close();
    }
  }

  beforeAll(async () => {
    app = await startTestApp({ db });
    ds = app.app.get(DataSource);
  });
  afterAll(() => app?.stop());

  it('replays from every id and streams live in (transaction, id) order', async () => {
    await ds.query(`SELECT setval('events_id_seq', 94)`);
    const live = await openSse(app.url, '/api/events', { key: app.adminKey, query: { job_id: JOB } });
    await live.waitFor((s) => s.comments.includes('connected'));

    // One transaction writes 250 events (ids 95..344); others commit while it is still open.
    let inserted!: () => void;
    const bigInserted = new Promise<void>((r) => (inserted = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const big = inTransaction(app.app, async () => {
      // Joins the transaction inTransaction opened: one insert of 250 events.
      const rows = await publishEvents(
        app.app,
        Array.from({ length: 250 }, (_, i) => event(i, 'big')),
      );
      inserted();
      await gate;
      return rows;
    });
    await bigInserted;
    const concurrent =
      db === 'postgres' ? await Promise.all([1, 2, 3].map((n) => publish(event(n, 'concurrent')))) : [];
    release();
    const bigRows = await big;
    expect(bigRows.map((e) => Number(e.id))).toEqual(Array.from({ length: 250 }, (_, i) => 95 + i));
    const after: StoredEvent[] = [];
    for (let n = 0; n < 5; n++) after.push(await publish(event(n, 'after')));

    // The delivery order the log defines: by inserting transaction, then id (numerically).
    const ordered = (
      await ds.query<{ id: string }[]>(
        `SELECT id::text AS id FROM events WHERE job_id = $1 ORDER BY events.tx_id, events.id`,
        [JOB],
      )
    ).map((r) => r.id);
    expect(ordered).toHaveLength(250 + concurrent.length + after.length);
    // The big transaction started first, so all of it is delivered before what committed during it.
    expect(ordered.slice(0, 250)).toEqual(bigRows.map((e) => e.id));

    await live.waitForMessages(ordered.length, 10_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(live.messages.map((m) => m.id)).toEqual(ordered);
    await live.close();

    // A replay from every id but the last; ten streams at a time (each is independent of the others).
    const starts = ordered.slice(0, -1).map((id, i) => ({ id, tail: ordered.slice(i + 1) }));
    for (let i = 0; i < starts.length; i += 10) {
      const batch = starts.slice(i, i + 10);
      const replayed = await Promise.all(batch.map((s) => replayFrom(s.id, s.tail.length)));
      expect(replayed).toEqual(batch.map((s) => s.tail));
    }
    // An id the log does not hold (94 was never written), older than every kept event while nothing was ever purged:
    // everything after it is still kept, so it replays without a reset.
    expect(await replayFrom('94', ordered.length)).toEqual(ordered);
  }, 120_000);
});
