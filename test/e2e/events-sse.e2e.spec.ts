import { DataSource } from 'typeorm';
import { EventHub, EventsService, StoredEvent } from '../../src/events';
import { makeOrg, makeUser } from '../support/approval-fixtures';
import { http } from '../support/http';
import { openSse, SseStream } from '../support/sse-client';
import { inTransaction, publishEvent, publishIn, queryIn, TestEvent } from '../support/events';
import { startTestApp, TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('events over SSE (PostgreSQL, one instance)', () => {
  let app: TestApp;
  let events: EventsService;
  let db: DataSource;
  const open: SseStream[] = [];

  const publish = (e: TestEvent): Promise<StoredEvent> => publishEvent(app.app, e);
  const sse = async (opts: Parameters<typeof openSse>[2] = {}, path = '/api/events') => {
    const s = await openSse(app.url, path, { key: app.adminKey, ...opts });
    open.push(s);
    return s;
  };
  const connected = async (opts: Parameters<typeof openSse>[2] = {}, path?: string) => {
    const s = await sse(opts, path);
    expect(s.status).toBe(200);
    await s.waitFor((x) => x.comments.includes('connected'), 3000, ': connected');
    return s;
  };

  beforeAll(async () => {
    app = await startTestApp({
      env: {
        SIMPLETUNER_SSE_MAX_PER_USER: '3',
        SIMPLETUNER_SSE_MAX_PER_ORG: '5',
        SIMPLETUNER_SSE_MAX_CONNECTIONS: '8',
        SIMPLETUNER_SSE_HEARTBEAT_SECONDS: '1',
      },
    });
    events = app.app.get(EventsService);
    db = app.app.get(DataSource);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('sends ": connected" at once with event-stream headers, then ": heartbeat" comments', async () => {
    const s = await connected();
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
    await s.waitFor((x) => x.comments.filter((c) => c === 'heartbeat').length >= 1, 2500, 'a heartbeat');
  });

  it('a client that misses 50 events gets exactly those 50 in order after reconnecting, then live ones', async () => {
    const first = await connected({ query: { job_id: 'job-replay' } });
    const seen = await publish({ type: 'job_submitted', jobId: 'job-replay', data: { n: 0 } });
    await first.waitForMessages(1);
    expect(first.messages[0].id).toBe(seen.id);
    await first.close();

    const missed: StoredEvent[] = [];
    for (let n = 1; n <= 50; n++)
      missed.push(await publish({ type: 'job_status_changed', jobId: 'job-replay', data: { n } }));

    const again = await connected({ query: { job_id: 'job-replay' }, headers: { 'Last-Event-ID': seen.id } });
    await again.waitForMessages(50);
    const live = await publish({ type: 'job_dispatched', jobId: 'job-replay', data: { n: 51 } });
    await again.waitForMessages(51);
    await sleep(200);
    expect(again.messages.map((m) => m.id)).toEqual([...missed.map((e) => e.id), live.id]);
    expect(again.messages.map((m) => m.json.n)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
  });

  it('replays every event after id 0 without a reset while nothing was ever purged (a fresh install)', async () => {
    const first = await publish({ type: 'job_submitted', jobId: 'job-zero' });
    const s = await connected({ query: { last_event_id: '0', job_id: 'job-zero' } });
    await s.waitForMessages(1);
    await sleep(200);
    expect(s.messages.map((m) => [m.event, m.id])).toEqual([['job_submitted', first.id]]);
  });

  it('accepts ?last_event_id= for EventSource, with the Last-Event-ID header winning', async () => {
    const a = await publish({ type: 'job_submitted', jobId: 'job-q', data: {} });
    const b = await publish({ type: 'job_submitted', jobId: 'job-q', data: {} });
    const c = await publish({ type: 'job_submitted', jobId: 'job-q', data: {} });
    const byQuery = await connected({ query: { job_id: 'job-q', last_event_id: a.id } });
    await byQuery.waitForMessages(2);
    expect(byQuery.messages.map((m) => m.id)).toEqual([b.id, c.id]);
    const both = await connected({
      query: { job_id: 'job-q', last_event_id: a.id },
      headers: { 'Last-Event-ID': b.id },
    });
    await both.waitForMessages(1);
    await sleep(150);
    expect(both.messages.map((m) => m.id)).toEqual([c.id]);
  });

  it('a publish in a transaction that rolls back delivers nothing; the same one committed does', async () => {
    const s = await connected({ query: { job_id: 'job-rollback' } });
    await expect(
      inTransaction(app.app, async () => {
        await publishIn(app.app, { type: 'job_status_changed', jobId: 'job-rollback', data: { status: 'failed' } });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await sleep(400);
    expect(s.messages).toEqual([]);
    const kept = await publish({ type: 'job_status_changed', jobId: 'job-rollback', data: { status: 'running' } });
    await s.waitForMessages(1);
    expect(s.messages.map((m) => [m.id, m.json.status])).toEqual([[kept.id, 'running']]);
    const rows = await db.query(`SELECT data->>'status' AS status FROM events WHERE job_id = 'job-rollback'`);
    expect(rows).toEqual([{ status: 'running' }]);
  });

  it('clients receive the flat payloads of job_status_changed and approval_expired over raw HTTP', async () => {
    const s = await connected({ query: { job_id: 'job-payload' } });
    const changed = await publish({
      type: 'job_status_changed',
      jobId: 'job-payload',
      data: { status: 'running', previous_status: 'queued' },
    });
    const expired = await publish({
      type: 'approval_expired',
      jobId: 'job-payload',
      data: { message: 'Approval request expired and job was auto-rejected' },
    });
    await s.waitForMessages(2);
    expect(s.raw).toContain(
      `id: ${changed.id}\nevent: job_status_changed\ndata: {"type":"job_status_changed","job_id":"job-payload","status":"running","previous_status":"queued"}\n\n`,
    );
    expect(s.raw).toContain(
      `id: ${expired.id}\nevent: approval_expired\ndata: {"type":"approval_expired","job_id":"job-payload","message":"Approval request expired and job was auto-rejected"}\n\n`,
    );
    expect(s.messages[1].json).toEqual({
      type: 'approval_expired',
      job_id: 'job-payload',
      message: 'Approval request expired and job was auto-rejected',
    });
    expect(changed.data).toEqual({
      type: 'job_status_changed',
      job_id: 'job-payload',
      status: 'running',
      previous_status: 'queued',
    });
  });

  it('filters by ?types= and ?job_id=', async () => {
    const s = await connected({ query: { types: 'approval_required,approval_approved', job_id: 'job-f1' } });
    await publish({ type: 'job_submitted', jobId: 'job-f1' });
    const want = await publish({ type: 'approval_required', jobId: 'job-f1' });
    await publish({ type: 'approval_required', jobId: 'job-f2' });
    const want2 = await publish({ type: 'approval_approved', jobId: 'job-f1' });
    await s.waitForMessages(2);
    await sleep(200);
    expect(s.messages.map((m) => m.id)).toEqual([want.id, want2.id]);
  });

  it('answers an unparsable Last-Event-ID with 400 and a bad filter with 400', async () => {
    const bad = await sse({ headers: { 'Last-Event-ID': 'abc' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'validation_error', details: { last_event_id: expect.any(String) } });
    const badQuery = await sse({ query: { last_event_id: '-4' } });
    expect(badQuery.status).toBe(400);
    const badTypes = await sse({ query: { types: 'DROP TABLE' } });
    expect(badTypes.status).toBe(400);
    expect(badTypes.body.details).toHaveProperty('types');
  });

  it('sends a reset event for an id older than retention, then every event still kept', async () => {
    const old = await publish({ type: 'job_submitted', jobId: 'job-old' });
    expect(await events.purgeOlderThan(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);
    const kept1 = await publish({ type: 'job_submitted', jobId: 'job-kept' });
    const kept2 = await publish({ type: 'job_dispatched', jobId: 'job-kept' });
    const s = await connected({ headers: { 'Last-Event-ID': old.id } });
    await s.waitForMessages(3);
    expect(s.messages[0]).toMatchObject({ event: 'reset', json: { type: 'reset', last_event_id: old.id } });
    expect(s.messages.slice(1).map((m) => m.id)).toEqual([kept1.id, kept2.id]);
    // Once events were purged, id 0 (older than any kept) is reset too.
    const zero = await connected({ query: { last_event_id: '0', job_id: 'job-kept' } });
    await zero.waitForMessages(3);
    expect(zero.messages.map((m) => m.event)).toEqual(['reset', 'job_submitted', 'job_dispatched']);
  });

  it('authenticates by ?api_key= on this route only, and refuses a missing key with 401', async () => {
    const byQuery = await openSse(app.url, '/api/events', { query: { api_key: app.adminKey } });
    open.push(byQuery);
    expect(byQuery.status).toBe(200);
    const none = await openSse(app.url, '/api/events');
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('authentication_error');
    const elsewhere = await http(app.url, 'GET', `/api/users/me?api_key=${app.adminKey}`);
    expect(elsewhere.status).toBe(401);
  });

  it('limits open streams per user with 429 rate_limit_exceeded and frees the slot on disconnect', async () => {
    const streams = [await connected(), await connected(), await connected()];
    const over = await sse();
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ error: 'rate_limit_exceeded', details: { limit: 3 } });
    await streams[0].close();
    const hub = app.app.get(EventHub);
    for (let i = 0; i < 50 && hub.stats().connections > 2; i++) await sleep(20);
    const replacement = await connected();
    expect(replacement.status).toBe(200);
  });

  it('caps open streams per organisation and per instance too: a lead with many users cannot take them all', async () => {
    const hub = app.app.get(EventHub);
    const [orgX, orgY, orgZ] = await Promise.all(['sse-x', 'sse-y', 'sse-z'].map((name) => makeOrg(app, name)));
    const lead = await makeUser(app, 'sse-x-lead', 'lead', orgX);
    const helpers = await Promise.all([1, 2].map((n) => makeUser(app, `sse-x-r${n}`, 'researcher', orgX)));
    // Org X: 5 streams through three of its users (each under its own cap of 3), then the org is full.
    for (const who of [lead, lead, lead, helpers[0], helpers[0]]) await connected({ key: who.key });
    const orgFull = await sse({ key: helpers[1].key });
    expect(orgFull.status).toBe(429);
    expect(orgFull.body).toMatchObject({ error: 'rate_limit_exceeded', details: { limit: 5, scope: 'org' } });
    // Other organisations still connect, up to the instance's total of 8.
    const y = await makeUser(app, 'sse-y-r', 'researcher', orgY);
    for (let i = 0; i < 3; i++) await connected({ key: y.key });
    const z = await makeUser(app, 'sse-z-r', 'researcher', orgZ);
    const total = await sse({ key: z.key });
    expect(total.status).toBe(429);
    expect(total.body).toMatchObject({ details: { limit: 8, scope: 'total' } });
    expect(hub.stats().connections).toBe(8);
    // Closing one frees a slot for anyone.
    await open[0].close();
    for (let i = 0; i < 50 && hub.stats().connections > 7; i++) await sleep(20);
    expect((await connected({ key: z.key })).status).toBe(200);
  });

  it('ids out of commit order: nothing is skipped or repeated, also for a client resuming from the higher id', async () => {
    const s = await connected({ query: { job_id: 'job-race' } });
    const gate = deferred();
    const lowerPublished = deferred<StoredEvent>();
    // T1 takes the lower id, then waits before committing.
    const t1 = inTransaction(app.app, async () => {
      const e = await publishIn(app.app, { type: 'job_status_changed', jobId: 'job-race', data: { n: 'lower' } });
      lowerPublished.resolve(e);
      await gate.promise;
      return e;
    });
    const lower = await lowerPublished.promise;
    // T2 takes the higher id and commits first.
    const higher = await inTransaction(app.app, () =>
      publishIn(app.app, { type: 'job_status_changed', jobId: 'job-race', data: { n: 'higher' } }),
    );
    expect(BigInt(higher.id)).toBeGreaterThan(BigInt(lower.id));
    await sleep(300);
    // The higher id waits: delivering it now would let a client resume past the lower one.
    expect(s.messages).toEqual([]);
    gate.resolve();
    await t1;
    await s.waitForMessages(2);
    await sleep(200);
    expect(s.messages.map((m) => m.id)).toEqual([lower.id, higher.id]);
  });

  it('the lower id committing last still reaches a client that resumes from the higher id it received, once', async () => {
    const s = await connected({ query: { job_id: 'job-race2' } });
    const gate = deferred();
    const t2Started = deferred();
    const t2Go = deferred();
    // T2 gets its transaction id first (an earlier write), so its later, higher event id may be delivered before
    // T1's lower one commits.
    const t2 = inTransaction(app.app, async () => {
      await queryIn(app.app, 'SELECT pg_current_xact_id()');
      t2Started.resolve();
      await t2Go.promise;
      return publishIn(app.app, { type: 'job_status_changed', jobId: 'job-race2', data: { n: 'higher' } });
    });
    await t2Started.promise;
    const lowerPublished = deferred<StoredEvent>();
    const t1 = inTransaction(app.app, async () => {
      const e = await publishIn(app.app, { type: 'job_status_changed', jobId: 'job-race2', data: { n: 'lower' } });
      lowerPublished.resolve(e);
      await gate.promise;
      return e;
    });
    const lower = await lowerPublished.promise;
    t2Go.resolve();
    const higher = await t2;
    expect(BigInt(higher.id)).toBeGreaterThan(BigInt(lower.id));
    await s.waitForMessages(1);
    expect(s.messages.map((m) => m.id)).toEqual([higher.id]);
    await s.close();
    // The client resumes from the higher id it received; the lower one commits after that.
    const resumed = await connected({ query: { job_id: 'job-race2' }, headers: { 'Last-Event-ID': higher.id } });
    gate.resolve();
    await t1;
    await resumed.waitForMessages(1);
    await sleep(300);
    expect(resumed.messages.map((m) => m.id)).toEqual([lower.id]);
    // And a later resume from the lower id repeats nothing.
    const later = await connected({ query: { job_id: 'job-race2' }, headers: { 'Last-Event-ID': lower.id } });
    await sleep(300);
    expect(later.messages).toEqual([]);
  });

  it('holds an event behind an older open transaction that publishes nothing, then delivers it within 1 s of its end', async () => {
    const s = await connected({ query: { job_id: 'job-held' } });
    const release = deferred();
    const holding = deferred();
    // An unrelated writer of this database, older than the publisher: it could still commit an event that sorts first.
    const older = inTransaction(app.app, async () => {
      await queryIn(app.app, 'SELECT pg_current_xact_id()');
      holding.resolve();
      await release.promise;
    });
    await holding.promise;
    const e = await publish({ type: 'job_submitted', jobId: 'job-held' });
    await sleep(300);
    expect(s.messages).toEqual([]);
    release.resolve();
    await older;
    const ended = Date.now();
    // No NOTIFY comes from the older transaction and the catch-up poll runs every 5 s: the held-back retry delivers.
    await s.waitFor((x) => x.messages.length === 1, 1000, 'the held-back event');
    expect(s.messages[0].id).toBe(e.id);
    expect(Date.now() - ended).toBeLessThan(1000);
  });

  it('closes open streams when the app shuts down, so stop() does not hang', async () => {
    const other = await startTestApp();
    const s = await openSse(other.url, '/api/events', { key: other.adminKey });
    await s.waitFor((x) => x.comments.includes('connected'));
    const started = Date.now();
    await other.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    await s.waitFor((x) => x.ended, 2000, 'end of stream');
  });
});

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
