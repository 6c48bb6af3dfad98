import { randomUUID } from 'node:crypto';
import type { AuthenticatedUser } from '../../src/auth';
import type { SubmitJobDto } from '../../src/jobs/jobs.dto';
import { DispatchPausesService } from '../../src/queue/dispatch-pauses.service';
import {
  FakeQueueProvider,
  harness,
  makeMembers,
  Member,
  minutes,
  QueueHarness,
  setQueueLimits,
} from '../support/queue-fixtures';
import { actorFor } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';
import { TestClock } from '../support/test-clock';

const T0 = Date.parse('2030-03-01T12:00:00Z');

/**
 * Scheduled starts, the wait limit and paused scopes, as the queue's tick sees them, on both databases: the tests
 * set the clock and call processTick (no interval tick runs, no wake-up goes round again).
 */
describe.each(['postgres', 'pglite'] as const)('scheduled starts, max wait and pauses (%s)', (db) => {
  let m: ServiceModule;
  let h: QueueHarness;
  let clock: TestClock;
  let fake: FakeQueueProvider;
  let pauses: DispatchPausesService;
  let member: Member;

  const asUser = (): AuthenticatedUser => ({
    id: member.id,
    username: member.username,
    level: 'lead',
    orgId: member.orgId,
    apiKeyId: randomUUID(),
  });
  const submit = async (extra: Partial<SubmitJobDto> = {}) => {
    const dto = { config_name: 'cfg', config: {}, provider: 'fakeq', hardware_profile: 'l40s', ...extra };
    return (await h.submissions.submit(asUser(), dto)).body.job_id;
  };
  const tick = (at: number) => h.queue.processTick(new Date(at));
  const jobRow = async (jobId: string) =>
    (await h.db.query(`SELECT status, error_message, start_after FROM jobs WHERE job_id = $1`, [jobId]))[0];

  beforeAll(async () => {
    clock = new TestClock();
    clock.set(T0);
    m = await startServiceModule({
      db,
      clock,
      env: { SIMPLETUNER_QUEUE_INTERVAL: '3600', SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'false' },
    });
    h = { ...harness(m.module), clock, admin: await actorFor(m.module, m.adminKey) };
    pauses = m.get(DispatchPausesService);
    fake = new FakeQueueProvider();
    h.registry.register(fake);
    await setQueueLimits(h, { max_concurrent: 50, user_max_concurrent: 50, org_max_concurrent: 50 });
    [member] = await makeMembers(h.db, 1, 1);
  });
  afterAll(async () => {
    await m?.close();
  });

  it('dispatches a scheduled job in the first tick after its start, never before; a past start at once', async () => {
    clock.set(T0);
    const later = await submit({ start_after: new Date(T0 + minutes(10)).toISOString() });
    const past = await submit({ start_after: new Date(T0 - minutes(1)).toISOString() });
    expect((await h.query.position(h.admin!, later, new Date(T0))).blocked_reason).toBe('scheduled');
    expect((await jobRow(later)).start_after.toISOString()).toBe(new Date(T0 + minutes(10)).toISOString());

    await tick(T0);
    expect(fake.createsFor(past)).toBe(1);
    expect(fake.createsFor(later)).toBe(0);
    await tick(T0 + minutes(10) - 1000);
    expect(fake.createsFor(later)).toBe(0);
    const summary = await tick(T0 + minutes(10));
    expect(summary.released_scheduled).toBe(1);
    expect(fake.createsFor(later)).toBe(1);
  });

  it('cancels a job still not dispatched after max_wait_seconds, with the message and a status event', async () => {
    clock.set(T0);
    await pauses.pause(h.admin!, { scope: 'provider', scope_id: 'fakeq' }, 'held for the test');
    try {
      const waiting = await submit({ max_wait_seconds: 60 });
      const patient = await submit({ max_wait_seconds: 3600 });
      await tick(T0 + 59_000);
      expect((await jobRow(waiting)).status).toBe('pending');
      const summary = await tick(T0 + 60_000);
      expect(summary.wait_expired).toBe(1);
      const row = await jobRow(waiting);
      expect(row).toMatchObject({ status: 'cancelled', error_message: 'Not started within 60 seconds' });
      expect((await jobRow(patient)).status).toBe('pending');
      const events = await h.db.query(`SELECT data FROM events WHERE job_id = $1 AND type = 'job_status_changed'`, [
        waiting,
      ]);
      expect(events.map((e: { data: Record<string, unknown> }) => e.data.status)).toEqual(['cancelled']);
      expect(fake.createsFor(waiting)).toBe(0);
    } finally {
      await pauses.resume(h.admin!, { scope: 'provider', scope_id: 'fakeq' });
    }
  });

  it('a paused scope dispatches nothing (blocked_reason paused) until resumed; other scopes go on', async () => {
    clock.set(T0);
    await tick(T0); // whatever earlier tests left
    const [other] = await makeMembers(h.db, 1, 1);
    await pauses.pause(h.admin!, { scope: 'org', scope_id: member.orgId }, 'org maintenance');
    const held = await submit();
    const otherUser = { ...asUser(), id: other.id, username: other.username, orgId: other.orgId };
    const free = (await h.submissions.submit(otherUser, { config_name: 'c', config: {}, provider: 'fakeq' })).body
      .job_id;
    await tick(T0 + 1000);
    expect(fake.createsFor(held)).toBe(0);
    expect(fake.createsFor(free)).toBe(1);
    const heldPosition = await h.query.position(h.admin!, held, new Date(T0 + 1000));
    // Another job was just dispatched (a known rate), yet a paused job's wait is unknown until someone resumes.
    expect(heldPosition).toMatchObject({ blocked_reason: 'paused', estimated_wait_seconds: null });

    await pauses.pause(h.admin!, { scope: 'global' }, 'everything stops');
    await pauses.resume(h.admin!, { scope: 'org', scope_id: member.orgId });
    await tick(T0 + 2000);
    expect(fake.createsFor(held)).toBe(0);
    await pauses.resume(h.admin!, { scope: 'global' });
    await tick(T0 + 3000);
    expect(fake.createsFor(held)).toBe(1);
  });
});
