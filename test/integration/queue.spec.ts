import {
  FakeQueueProvider,
  resetQueueState,
  setQueueLimits,
  startQueueServices,
  jobStatuses,
  makeMembers,
  minutes,
  QueueHarness,
  sampleSlots,
  submitJob,
} from '../support/queue-fixtures';
import type { ServiceModule } from '../support/service-module';

/**
 * Queue module on real PostgreSQL through the app's services, with an instant in-process provider and a set clock
 * passed to processTick. Nothing ticks on its own: the tests drive every tick themselves. Positions and priority
 * overrides go through the service the /api/queue routes call, as the admin (the routes' HTTP side is
 * test/e2e/queue-api.e2e.spec.ts).
 */
describe('queue (PostgreSQL)', () => {
  let services: ServiceModule;
  let h: QueueHarness;
  let fake: FakeQueueProvider;

  const setLimits = (body: Record<string, number | null>) => setQueueLimits(h, body);
  const position = (jobId: string) => h.query.position(h.admin!, jobId);
  const setPriority = (jobId: string, priority: number | null) => h.query.setPriority(h.admin!, jobId, priority);

  beforeAll(async () => {
    ({ m: services, h } = await startQueueServices());
  });
  afterAll(async () => {
    await services?.close();
  });
  beforeEach(async () => {
    fake = await resetQueueState(h);
  });

  it('never exceeds user 2 / org 3 / global 5 while 40 jobs from 6 users in 3 orgs all run to completion', async () => {
    const limits = await setLimits({ max_concurrent: 5, user_max_concurrent: 2, org_max_concurrent: 3 });
    expect(limits).toMatchObject({
      max_concurrent: 5,
      user_max_concurrent: 2,
      org_max_concurrent: 3,
      source: { max_concurrent: 'database' },
    });
    const members = await makeMembers(h.db, 3, 2);
    const jobs = [];
    for (let i = 0; i < 40; i++) jobs.push(await submitJob(h, members[i % 6], { priority: [0, 10, 20][i % 3] }));

    let now = Date.now();
    const peak = { global: 0, maxUser: 0, maxOrg: 0 };
    const finishAfter = new Map<string, number>();
    for (let tick = 0; tick < 200; tick++) {
      now += 5_000;
      await h.queue.processTick(new Date(now));
      const s = await sampleSlots(h.db);
      expect(s.global).toBeLessThanOrEqual(5);
      expect(s.maxUser).toBeLessThanOrEqual(2);
      expect(s.maxOrg).toBeLessThanOrEqual(3);
      peak.global = Math.max(peak.global, s.global);
      peak.maxUser = Math.max(peak.maxUser, s.maxUser);
      peak.maxOrg = Math.max(peak.maxOrg, s.maxOrg);
      // Running jobs finish after 1-3 ticks, through the transition function (as polling or a webhook would).
      const running: { job_id: string }[] = await h.db.query(
        `SELECT job_id FROM queue_entries WHERE status = 'running'`,
      );
      for (const { job_id } of running) {
        const left = finishAfter.get(job_id) ?? 1 + (job_id.charCodeAt(0) % 3);
        if (left <= 1) await h.transitions.transition(job_id, 'completed', { source: 'test.poll' });
        finishAfter.set(job_id, left - 1);
      }
      if ((await jobStatuses(h.db)).completed === 40) break;
    }
    expect(await jobStatuses(h.db)).toEqual({ completed: 40 });
    // The limits were actually reached, not merely respected by an idle queue.
    expect(peak).toEqual({ global: 5, maxUser: 2, maxOrg: 3 });
    for (const j of jobs) expect(fake.createsFor(j.jobId)).toBe(1);
  });

  it('dispatches by effective priority, FIFO within a level, and an override moves a job', async () => {
    await setLimits({ max_concurrent: 1, user_max_concurrent: 1, org_max_concurrent: 1 });
    const [m] = await makeMembers(h.db, 1, 1);
    const low = await submitJob(h, m, { priority: 0 });
    const normal1 = await submitJob(h, m, { priority: 10 });
    const high = await submitJob(h, m, { priority: 20 });
    const normal2 = await submitJob(h, m, { priority: 10 });
    const normal3 = await submitJob(h, m, { priority: 10 });

    // normal3 is raised to URGENT by an admin: it now goes first.
    const moved = await setPriority(normal3.jobId, 30);
    expect(moved).toMatchObject({ job_id: normal3.jobId, effective_priority: 30, position: 1 });
    const before = await position(normal2.jobId);
    expect(before.position).toBe(4);

    const order: string[] = [];
    let now = Date.now();
    for (let i = 0; i < 5; i++) {
      now += 1000;
      const summary = await h.queue.processTick(new Date(now));
      expect(summary.dispatched).toBe(1);
      const [running] = await h.db.query(`SELECT job_id FROM queue_entries WHERE status = 'running'`);
      order.push(running.job_id);
      await h.transitions.transition(running.job_id, 'completed', { source: 'test.poll' });
    }
    expect(order).toEqual([normal3.jobId, high.jobId, normal1.jobId, normal2.jobId, low.jobId]);
  });

  it('fills the batch past many higher-priority jobs of an org at its limit', async () => {
    await setLimits({ max_concurrent: 2, user_max_concurrent: 2, org_max_concurrent: 1 });
    const orgA = await makeMembers(h.db, 1, 4);
    const [b] = await makeMembers(h.db, 1, 1);
    for (const m of orgA) for (let i = 0; i < 2; i++) await submitJob(h, m, { priority: 20 });
    const low = await submitJob(h, b, { priority: 0 });
    const summary = await h.queue.processTick(new Date());
    expect(summary.dispatched).toBe(2);
    const running: { org_id: string; job_id: string }[] = await h.db.query(
      `SELECT org_id, job_id FROM queue_entries WHERE status = 'running'`,
    );
    expect(running.map((r) => r.job_id)).toContain(low.jobId);
    expect(new Set(running.map((r) => r.org_id)).size).toBe(2);
  });

  it('does not let thousands of urgent jobs of a user at its limit hide another user’s job', async () => {
    await setLimits({ max_concurrent: 10, user_max_concurrent: 2, org_max_concurrent: 10 });
    const [heavy, other] = await makeMembers(h.db, 2, 1);
    await submitJob(h, heavy, { priority: 40 });
    await submitJob(h, heavy, { priority: 40 });
    expect((await h.queue.processTick(new Date())).dispatched).toBe(2);
    // 2,500 more urgent jobs of the saturated user, inserted in bulk ahead of everyone in the dispatch order.
    await h.db.query(
      `WITH j AS (
         INSERT INTO jobs (user_id, org_id, provider, status, config_name, hardware_profile, priority, correlation_id)
         SELECT $1, $2, 'fakeq', 'pending', 'bulk', 'l40s', 40, 'bulk' || i FROM generate_series(1, 2500) i
         RETURNING job_id, user_id, org_id, provider)
       INSERT INTO queue_entries (job_id, user_id, org_id, provider, base_priority, effective_priority, status, pending_since)
       SELECT job_id, user_id, org_id, provider, 40, 40, 'pending', now() FROM j`,
      [heavy.id, heavy.orgId],
    );
    const low = await submitJob(h, other, { priority: 0 });
    const summary = await h.queue.processTick(new Date());
    expect(summary.dispatched).toBe(1);
    expect(fake.createsFor(low.jobId)).toBe(1);
    expect((await sampleSlots(h.db)).maxUser).toBe(2);
  });

  it('lets a LOW job waiting past starvation_minutes (60) overtake newer NORMAL ones (set clock)', async () => {
    await setLimits({ max_concurrent: 1, user_max_concurrent: 1, org_max_concurrent: 1 });
    const [m] = await makeMembers(h.db, 1, 1);
    const t0 = Date.now();
    h.clock!.set(t0);
    const low = await submitJob(h, m, { priority: 0 });
    h.clock!.set(t0 + minutes(61));
    const normalA = await submitJob(h, m, { priority: 10 });
    const normalB = await submitJob(h, m, { priority: 10 });

    // Before the period has passed, NORMAL goes first.
    const early = await h.queue.processTick(new Date(t0 + minutes(30)));
    expect(early.aged).toBe(0);
    const [first] = await h.db.query(`SELECT job_id FROM queue_entries WHERE status = 'running'`);
    expect(first.job_id).toBe(normalA.jobId);
    await h.transitions.transition(normalA.jobId, 'completed', { source: 'test.poll' });

    const late = await h.queue.processTick(new Date(t0 + minutes(61)));
    expect(late.aged).toBe(1);
    const [second] = await h.db.query(`SELECT job_id FROM queue_entries WHERE status = 'running'`);
    expect(second.job_id).toBe(low.jobId);
    const [aged] = await h.db.query(`SELECT effective_priority FROM queue_entries WHERE job_id = $1`, [low.jobId]);
    expect(aged.effective_priority).toBe(10);
    const pos = await position(normalB.jobId);
    expect(pos).toMatchObject({ position: 1, effective_priority: 10, blocked_reason: 'user_limit' });
  });

  it('ages at most to 40 and never lowers an override of 50', async () => {
    await setLimits({ max_concurrent: 1, user_max_concurrent: 1, org_max_concurrent: 1 });
    const [m] = await makeMembers(h.db, 1, 1);
    const t0 = Date.now();
    h.clock!.set(t0);
    const blocker = await submitJob(h, m, { priority: 40 });
    await h.queue.processTick(new Date(t0));
    const low = await submitJob(h, m, { priority: 0 });
    const top = await submitJob(h, m, { priority: 10 });
    expect(await setPriority(top.jobId, 50)).toMatchObject({ job_id: top.jobId, effective_priority: 50 });
    await h.queue.processTick(new Date(t0 + minutes(600)));
    const rows: { job_id: string; effective_priority: number }[] = await h.db.query(
      `SELECT job_id, effective_priority FROM queue_entries WHERE job_id = ANY($1)`,
      [[low.jobId, top.jobId]],
    );
    const eff = Object.fromEntries(rows.map((r) => [r.job_id, r.effective_priority]));
    expect(eff).toEqual({ [low.jobId]: 40, [top.jobId]: 50 });
    expect((await h.db.query(`SELECT status FROM queue_entries WHERE job_id = $1`, [blocker.jobId]))[0].status).toBe(
      'running',
    );
  });

  it('names user_limit, org_limit, global_limit and awaiting_approval as the reason a job waits', async () => {
    await setLimits({ max_concurrent: 5, user_max_concurrent: 2, org_max_concurrent: 3 });
    const [a1, a2, b1, c1, d1] = await makeMembers(h.db, 1, 2).then(async (org1) => [
      ...org1,
      ...(await makeMembers(h.db, 3, 1)),
    ]);
    // a1 runs 2 (user limit), a2 runs 1 (org A at 3), b1 runs 2: global 5.
    for (const m of [a1, a1, a2, b1, b1]) await submitJob(h, m);
    await h.queue.processTick(new Date());
    expect((await sampleSlots(h.db)).global).toBe(5);
    const userWait = await submitJob(h, a1);
    const orgWait = await submitJob(h, a2);
    const globalWait = await submitJob(h, c1);
    const approvalWait = await submitJob(h, d1, { requiresApproval: true });
    const first = await position(userWait.jobId);
    expect(first).toMatchObject({ blocked_reason: 'user_limit', position: 1 });
    // ETA from measured waits: dispatches of the last hour give a rate; position 1 waits about one interval of it.
    expect(first.estimated_wait_seconds).toBeGreaterThan(0);
    expect(await position(orgWait.jobId)).toMatchObject({ blocked_reason: 'org_limit', position: 2 });
    expect(await position(globalWait.jobId)).toMatchObject({ blocked_reason: 'global_limit', position: 3 });
    expect(await position(approvalWait.jobId)).toMatchObject({ blocked_reason: 'awaiting_approval', position: null });

    // Approval → pending: it joins the queue, and a freed global slot goes to it (its user and org have room).
    await h.entries.unblock(approvalWait.jobId);
    expect(await position(approvalWait.jobId)).toMatchObject({ position: 4, blocked_reason: 'global_limit' });
    const [b1Job] = await h.db.query(
      `SELECT job_id FROM queue_entries WHERE user_id = $1 AND status = 'running' LIMIT 1`,
      [b1.id],
    );
    await h.transitions.transition(b1Job.job_id, 'completed', { source: 'test.poll' });
    await h.queue.processTick(new Date());
    const running: { job_id: string }[] = await h.db.query(`SELECT job_id FROM queue_entries WHERE status = 'running'`);
    expect(running.map((r) => r.job_id)).toContain(globalWait.jobId);
    expect(await position(approvalWait.jobId)).toMatchObject({ position: 3, blocked_reason: 'global_limit' });
  });
});
