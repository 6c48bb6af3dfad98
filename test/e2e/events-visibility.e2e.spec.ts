import { StoredEvent } from '../../src/events';
import { http } from '../support/http';
import { openSse, SseStream } from '../support/sse-client';
import { publishEvent, TestEvent } from '../support/events';
import { startTestApp, TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Person {
  id: string;
  orgId: string;
  key: string;
}

/**
 * Who sees which events, live and in replay (README "Who may see and do what"). Users, orgs and keys come from
 * the HTTP API.
 */
describe('event visibility by level and org', () => {
  let app: TestApp;
  const streams: SseStream[] = [];
  let people: Record<'ria' | 'rob' | 'lea' | 'vic' | 'bea', Person>;

  const publish = (e: TestEvent): Promise<StoredEvent> => publishEvent(app.app, e);

  async function person(username: string, level: string, orgId: string): Promise<Person> {
    const user = await http(app.url, 'POST', '/api/users', {
      key: app.adminKey,
      body: { username, level, org_id: orgId },
    });
    expect(user.status).toBe(201);
    const key = await http(app.url, 'POST', `/api/users/${user.body.id}/api-keys`, {
      key: app.adminKey,
      body: { name: 'sse' },
    });
    expect(key.status).toBe(201);
    return { id: user.body.id, orgId, key: key.body.key };
  }

  async function stream(key: string, headers: Record<string, string> = {}): Promise<SseStream> {
    const s = await openSse(app.url, '/api/events', { key, headers });
    streams.push(s);
    expect(s.status).toBe(200);
    await s.waitFor((x) => x.comments.includes('connected'));
    return s;
  }

  beforeAll(async () => {
    app = await startTestApp();
    const labs = await http(app.url, 'POST', '/api/orgs', { key: app.adminKey, body: { name: 'labs' } });
    const other = await http(app.url, 'POST', '/api/orgs', { key: app.adminKey, body: { name: 'other' } });
    people = {
      ria: await person('ria', 'researcher', labs.body.id),
      rob: await person('rob', 'researcher', labs.body.id),
      lea: await person('lea', 'lead', labs.body.id),
      vic: await person('vic', 'viewer', labs.body.id),
      bea: await person('bea', 'researcher', other.body.id),
    };
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await app?.stop();
  });

  it('shows a researcher its own jobs only, a lead and a viewer their org only, an admin everything', async () => {
    const marker = await publish({ type: 'queue_limits_changed', data: { max_concurrent: 5 } });
    const live = {
      ria: await stream(people.ria.key),
      lea: await stream(people.lea.key),
      vic: await stream(people.vic.key),
      bea: await stream(people.bea.key),
      admin: await stream(app.adminKey),
    };
    const job = (owner: Person, jobId: string, type = 'job_status_changed') =>
      publish({
        type,
        jobId,
        userId: owner.id,
        orgId: owner.orgId,
        data: { status: 'running', previous_status: 'queued' },
      });
    const riaJob = await job(people.ria, 'job-ria');
    const robJob = await job(people.rob, 'job-rob');
    const beaJob = await job(people.bea, 'job-bea');
    const leaJob = await job(people.lea, 'job-lea', 'approval_required');
    const notice = await publish({ type: 'queue_limits_changed', data: { max_concurrent: 6 } });
    const end = await publish({
      type: 'job_submitted',
      jobId: 'job-end',
      userId: people.ria.id,
      orgId: people.ria.orgId,
    });

    const expected: Record<keyof typeof live, StoredEvent[]> = {
      ria: [riaJob, notice, end],
      lea: [riaJob, robJob, leaJob, notice, end],
      vic: [riaJob, robJob, leaJob, notice, end],
      bea: [beaJob, notice],
      admin: [riaJob, robJob, beaJob, leaJob, notice, end],
    };
    await live.admin.waitForMessages(6);
    await live.ria.waitForMessages(3);
    await sleep(300);
    for (const [who, list] of Object.entries(expected)) {
      expect({ who, ids: live[who as keyof typeof live].messages.map((m) => m.id) }).toEqual({
        who,
        ids: list.map((e) => e.id),
      });
    }
    // The researcher never receives another user's job, whatever it asks for.
    expect(live.ria.messages.some((m) => m.json.job_id === 'job-rob' || m.json.job_id === 'job-bea')).toBe(false);

    // Replay applies the same rules as the live fan-out.
    for (const [who, key] of [
      ['ria', people.ria.key],
      ['lea', people.lea.key],
      ['vic', people.vic.key],
      ['bea', people.bea.key],
      ['admin', app.adminKey],
    ] as const) {
      const replay = await stream(key, { 'Last-Event-ID': marker.id });
      const want = expected[who];
      await replay.waitForMessages(want.length);
      await sleep(100);
      expect({ who, ids: replay.messages.map((m) => m.id) }).toEqual({ who, ids: want.map((e) => e.id) });
    }
  });

  it('does not let a researcher widen its view with ?job_id= of someone else', async () => {
    const s = await openSse(app.url, '/api/events', { key: people.ria.key, query: { job_id: 'job-rob-2' } });
    streams.push(s);
    await s.waitFor((x) => x.comments.includes('connected'));
    await publish({ type: 'job_status_changed', jobId: 'job-rob-2', userId: people.rob.id, orgId: people.rob.orgId });
    const mine = await publish({
      type: 'job_status_changed',
      jobId: 'job-rob-2',
      userId: people.ria.id,
      orgId: people.ria.orgId,
    });
    await s.waitForMessages(1);
    await sleep(200);
    expect(s.messages.map((m) => m.id)).toEqual([mine.id]);
  });
});
