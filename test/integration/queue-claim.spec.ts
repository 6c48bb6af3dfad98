import { generateApiKey } from '../../src/auth/api-key.util';
import type { Job } from '../../src/jobs/job.entity';
import { BackgroundTaskManager } from '../../src/scheduling';
import {
  FakeQueueProvider,
  jobStatuses,
  makeMembers,
  Member,
  minutes,
  QueueHarness,
  sampleSlots,
  setQueueLimits,
  startQueueServices,
  submitJob,
} from '../support/queue-fixtures';
import type { ServiceModule } from '../support/service-module';
import { createTestDatabase, TestDatabase, withAdminClient } from '../support/test-database';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The promise's value, or null when it takes longer than `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Instance {
  m: ServiceModule;
  h: QueueHarness;
  fake: FakeQueueProvider;
}

/**
 * The claim, with two instances of the app's services on one PostgreSQL ticking at the same moment: the limits are
 * counted in the database and never exceeded, and what goes first is decided by effective priority, then age.
 * Nothing ticks on its own; every tick here is the test's.
 */
describe('queue claim across two instances (PostgreSQL)', () => {
  let database: TestDatabase;
  let a: Instance;
  let b: Instance;
  /** One admin for both instances: the first boot creates it with this key, the second finds it. */
  const adminKey = generateApiKey();

  async function instance(): Promise<Instance> {
    const { m, h } = await startQueueServices({ database, env: { SIMPLETUNER_ADMIN_API_KEY: adminKey } });
    const fake = new FakeQueueProvider();
    h.registry.register(fake);
    return { m, h, fake };
  }
  const bothTick = (now: Date) => Promise.all([a.h.queue.processTick(now), b.h.queue.processTick(now)]);
  const creates = (jobId: string) => a.fake.createsFor(jobId) + b.fake.createsFor(jobId);
  const running = async () =>
    (await a.h.db.query<{ job_id: string }[]>(`SELECT job_id FROM queue_entries WHERE status = 'running'`)).map(
      (r) => r.job_id,
    );
  /** Every active job of earlier tests ends, so each test starts from an idle queue. */
  const idle = async () => {
    await a.h.db.query(
      `UPDATE queue_entries SET status = 'cancelled' WHERE status NOT IN ('completed','failed','cancelled')`,
    );
    await a.h.db.query(`UPDATE jobs SET status = 'cancelled' WHERE status NOT IN ('completed','failed','cancelled')`);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    a = await instance();
    b = await instance();
  });
  afterAll(async () => {
    await a?.m.close();
    await b?.m.close();
    await database?.drop();
  });
  beforeEach(idle);

  it('runs no tick of its own: neither a 1 s interval nor the wake-up after a submit dispatches', async () => {
    const own = await startQueueServices({
      env: { SIMPLETUNER_QUEUE_INTERVAL: '1', SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'true' },
    });
    try {
      const fake = new FakeQueueProvider();
      own.h.registry.register(fake);
      let woken = 0;
      own.h.entries.onWake(() => woken++);
      const [member] = await makeMembers(own.h.db, 1, 1);
      const job = await submitJob(own.h, member);
      await sleep(1500);
      // The submit woke the queue; the tick that asks for runs only once the task manager has started.
      expect(woken).toBe(1);
      expect(fake.creates).toEqual([]);
      const [entry] = await own.h.db.query(`SELECT status FROM queue_entries WHERE job_id = $1`, [job.jobId]);
      expect(entry.status).toBe('pending');
      const tasks = own.m.get(BackgroundTaskManager);
      expect(tasks.isStarted()).toBe(false);
      expect(tasks.getState('queue_processing')).toMatchObject({ interval_seconds: 1, runs: 0 });
      // The test's own tick dispatches it.
      expect((await own.h.queue.processTick(new Date())).dispatched).toBe(1);
      expect(fake.createsFor(job.jobId)).toBe(1);
    } finally {
      await own.m.close();
    }
  });

  it('never exceeds global 5 / user 2 / org 3 while both instances claim at once, creates held in flight', async () => {
    await setQueueLimits(a.h, { max_concurrent: 5, user_max_concurrent: 2, org_max_concurrent: 3 });
    const [a1, a2, b1, b2, c1] = [...(await makeMembers(a.h.db, 2, 2)), ...(await makeMembers(a.h.db, 1, 1))];
    // In dispatch order: a1 fills its 2, a2 brings org A to 3, b1 fills its 2 and the global 5 is reached.
    const jobs: Job[] = [];
    for (const member of [a1, a1, a1, a2, a2, b1, b1, b1, b2, c1])
      jobs.push(await submitJob(member === b1 || member === c1 ? b.h : a.h, member));

    // Each create waits until the test lets it go: the claimed slots stay `dispatching` meanwhile.
    let inFlight = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    for (const x of [a, b]) {
      x.fake.duringSubmit = async () => {
        inFlight++;
        await released;
      };
    }
    const tickA = a.h.queue.processTick(new Date());
    const tickB = b.h.queue.processTick(new Date());
    try {
      // The instance that found no room returns while the other holds its creates.
      const idleTick = await within(10_000, Promise.race([tickA, tickB]));
      expect(idleTick).toMatchObject({ claimed: 0, dispatched: 0 });
      for (let i = 0; i < 100 && inFlight < 5; i++) await sleep(20);
      expect(inFlight).toBe(5);
      expect(await sampleSlots(a.h.db)).toEqual({ global: 5, maxUser: 2, maxOrg: 3 });
      const [{ n: dispatching }] = await a.h.db.query(
        `SELECT count(*)::int AS n FROM queue_entries WHERE status = 'dispatching'`,
      );
      expect(dispatching).toBe(5);
    } finally {
      release();
    }
    const [ta, tb] = await Promise.all([tickA, tickB]);
    expect(ta.claimed + tb.claimed).toBe(5);
    expect(ta.dispatched + tb.dispatched).toBe(5);
    for (const x of [a, b]) x.fake.duringSubmit = null;
    expect((await running()).length).toBe(5);
    expect(jobs.map((j) => creates(j.jobId)).reduce((n, c) => n + c, 0)).toBe(5);
  });

  it('never exceeds a limit while three ticks on each instance claim at once, round after round', async () => {
    await setQueueLimits(a.h, { max_concurrent: 5, user_max_concurrent: 2, org_max_concurrent: 3 });
    const [a1, a2, b1, b2, c1] = [...(await makeMembers(a.h.db, 2, 2)), ...(await makeMembers(a.h.db, 1, 1))];
    // Six times the order of the test above: each full round meets the user, org and global limits at once.
    const order = [a1, a1, a1, a2, a2, b1, b1, b1, b2, c1];
    const jobs: Job[] = [];
    for (let i = 0; i < 60; i++) jobs.push(await submitJob(i % 2 ? b.h : a.h, order[i % order.length]));
    const peak = { global: 0, maxUser: 0, maxOrg: 0 };
    for (let round = 0; round < 60 && (await jobStatuses(a.h.db)).completed !== jobs.length; round++) {
      const now = new Date();
      await Promise.all([a, b, a, b, a, b].map((x) => x.h.queue.processTick(now)));
      const s = await sampleSlots(a.h.db);
      expect(s.global).toBeLessThanOrEqual(5);
      expect(s.maxUser).toBeLessThanOrEqual(2);
      expect(s.maxOrg).toBeLessThanOrEqual(3);
      peak.global = Math.max(peak.global, s.global);
      peak.maxUser = Math.max(peak.maxUser, s.maxUser);
      peak.maxOrg = Math.max(peak.maxOrg, s.maxOrg);
      // Running jobs finish (as polling would report), through either instance.
      for (const [n, jobId] of (await running()).entries()) {
        await (n % 2 ? b : a).h.transitions.transition(jobId, 'completed', { source: 'test.poll' });
      }
    }
    expect(await jobStatuses(a.h.db)).toMatchObject({ completed: jobs.length });
    for (const j of jobs) expect(creates(j.jobId)).toBe(1);
    // The limits were reached, so "never exceeded" means something.
    expect(peak).toEqual({ global: 5, maxUser: 2, maxOrg: 3 });
  });

  it('dispatches by effective priority, then age, whichever instance ticks', async () => {
    await setQueueLimits(a.h, { max_concurrent: 1, user_max_concurrent: 5, org_max_concurrent: 5 });
    const [member]: Member[] = await makeMembers(a.h.db, 1, 1);
    const t0 = Date.now();
    const at = async (h: QueueHarness, offset: number, priority: number) => {
      a.h.clock!.set(t0 + offset);
      b.h.clock!.set(t0 + offset);
      return submitJob(h, member, { priority });
    };
    const low = await at(a.h, 0, 0);
    const normal1 = await at(b.h, minutes(1), 10);
    const high = await at(a.h, minutes(2), 20);
    const normal2 = await at(b.h, minutes(3), 10);
    const normal3 = await at(a.h, minutes(4), 10);
    // An admin raises normal3 to 30 (URGENT).
    expect(await b.h.query.setPriority(b.h.admin!, normal3.jobId, 30)).toMatchObject({ effective_priority: 30 });

    // An hour after its submit the LOW job has aged to 10, and it is older than every NORMAL job.
    const now = new Date(t0 + minutes(60) + 30_000);
    const order: string[] = [];
    for (let round = 0; round < 5; round++) {
      const [x, y] = await bothTick(now);
      expect(x.dispatched + y.dispatched).toBe(1);
      const [jobId] = await running();
      order.push(jobId);
      await a.h.transitions.transition(jobId, 'completed', { source: 'test.poll' });
    }
    expect(order).toEqual([normal3.jobId, high.jobId, low.jobId, normal1.jobId, normal2.jobId]);
    const [aged] = await a.h.db.query(`SELECT effective_priority FROM queue_entries WHERE job_id = $1`, [low.jobId]);
    expect(aged.effective_priority).toBe(10);
  });

  it('leaves no connection to the database behind once both instances are closed', async () => {
    await a.m.close();
    await b.m.close();
    const connections = () =>
      withAdminClient(
        async (c) =>
          (
            await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [
              database.name,
            ])
          ).rows[0].n,
      );
    // A closed connection's server process may take a moment to leave pg_stat_activity.
    let left = await connections();
    for (let i = 0; i < 50 && left > 0; i++) {
      await sleep(20);
      left = await connections();
    }
    expect(left).toBe(0);
  });
});
