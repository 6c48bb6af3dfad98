import { ProviderCallError } from '../../src/providers/provider.interface';
import {
  FakeQueueProvider,
  resetQueueState,
  setQueueLimits,
  startQueueServices,
  makeMembers,
  minutes,
  QueueHarness,
  sampleSlots,
  submitJob,
} from '../support/queue-fixtures';
import type { ServiceModule } from '../support/service-module';

/**
 * Queue module: what happens after the claim — provider errors, interrupted dispatches reconciled by
 * job_id, cancels during a create, and the forward-only job status whatever order updates arrive in. Real
 * PostgreSQL through the app's services, an instant in-process provider, ticks driven by the test with a set clock.
 */
describe('queue dispatch outcomes (PostgreSQL)', () => {
  let services: ServiceModule;
  let h: QueueHarness;
  let fake: FakeQueueProvider;

  const setLimits = (body: Record<string, number | null>) => setQueueLimits(h, body);

  beforeAll(async () => {
    ({ m: services, h } = await startQueueServices());
  });
  afterAll(async () => {
    await services?.close();
  });
  beforeEach(async () => {
    fake = await resetQueueState(h);
  });

  it('a tick asked for now (POST /api/queue/process) while another is dispatching returns once that one has recorded its jobs', async () => {
    await setLimits({ max_concurrent: 5, user_max_concurrent: 5, org_max_concurrent: 5 });
    const [m] = await makeMembers(h.db, 1, 1);
    const job = await submitJob(h, m);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inCreate!: () => void;
    const creating = new Promise<void>((resolve) => (inCreate = resolve));
    fake.duringSubmit = async () => {
      inCreate();
      await held;
    };
    const first = h.queue.processTick(new Date());
    await creating; // the first tick has claimed the job and waits in the provider call
    let secondDone = false;
    const second = h.queue.processNow().then((s) => ((secondDone = true), s));
    await new Promise((r) => setTimeout(r, 100));
    expect(secondDone).toBe(false); // it found nothing to claim, and waits for the tick holding the job
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.dispatched).toBe(1);
    expect(b.dispatched).toBe(0);
    const [row] = await h.db.query(`SELECT status FROM queue_entries WHERE job_id = $1`, [job.jobId]);
    expect(row.status).toBe('running');
    fake.duringSubmit = null;
  });

  describe('interrupted dispatches', () => {
    beforeEach(() => setLimits({ max_concurrent: 5, user_max_concurrent: 5, org_max_concurrent: 5 }));

    const strand = (jobId: string, at: number) =>
      h.db.query(
        `UPDATE queue_entries SET status = 'dispatching', dispatched_at = $2, dispatch_token = 'dead', attempt = 1 WHERE job_id = $1`,
        [jobId, new Date(at)],
      );

    it('adopts the prediction of an instance that died after the provider call, without a second create', async () => {
      const [m] = await makeMembers(h.db, 1, 1);
      const job = await submitJob(h, m);
      const t0 = Date.now();
      await strand(job.jobId, t0);
      await fake.submit(job); // the create that reached the provider before the crash
      // Within the grace period nothing happens to it.
      expect((await h.queue.processTick(new Date(t0 + 5_000))).reconciled.adopted).toBe(0);
      const summary = await h.queue.processTick(new Date(t0 + minutes(5)));
      expect(summary.reconciled.adopted).toBe(1);
      expect(fake.createsFor(job.jobId)).toBe(1);
      const [row] = await h.db.query(
        `SELECT j.status, j.external_id, q.status AS entry FROM jobs j JOIN queue_entries q USING (job_id) WHERE job_id = $1`,
        [job.jobId],
      );
      expect(row).toEqual({ status: 'queued', external_id: fake.creates[0].externalId, entry: 'running' });
    });

    it('dispatches once an entry left before the provider call', async () => {
      const [m] = await makeMembers(h.db, 1, 1);
      const job = await submitJob(h, m);
      const t0 = Date.now();
      await strand(job.jobId, t0);
      const summary = await h.queue.processTick(new Date(t0 + minutes(5)));
      expect(summary.reconciled.redispatched).toBe(1);
      expect(summary.dispatched).toBe(1);
      await h.queue.processTick(new Date(t0 + minutes(10)));
      expect(fake.createsFor(job.jobId)).toBe(1);
      const [row] = await h.db.query(`SELECT status, external_id FROM jobs WHERE job_id = $1`, [job.jobId]);
      expect(row).toEqual({ status: 'queued', external_id: fake.creates[0].externalId });
    });

    it('lets a stalled dispatcher lose to the reconciler without a second prediction or an overwrite', async () => {
      const [m] = await makeMembers(h.db, 1, 1);
      const job = await submitJob(h, m);
      const t0 = Date.now();
      let nested: Awaited<ReturnType<typeof h.queue.processTick>> | undefined;
      fake.duringSubmit = async () => {
        fake.duringSubmit = null;
        // The create hangs past the grace period; another tick reconciles meanwhile and adopts the prediction.
        nested = await h.queue.processTick(new Date(t0 + minutes(5)));
      };
      const stalled = await h.queue.processTick(new Date(t0));
      expect(nested?.reconciled.adopted).toBe(1);
      expect(stalled).toMatchObject({ dispatched: 0, lost: 1 });
      expect(fake.createsFor(job.jobId)).toBe(1);
      expect(fake.cancels).toEqual([]);
      const [row] = await h.db.query(
        `SELECT j.status, j.external_id, q.status AS entry FROM jobs j JOIN queue_entries q USING (job_id) WHERE job_id = $1`,
        [job.jobId],
      );
      expect(row).toEqual({ status: 'queued', external_id: fake.creates[0].externalId, entry: 'running' });
    });

    it('keeps a create whose outcome is unknown dispatching, then adopts it instead of resending', async () => {
      const [m] = await makeMembers(h.db, 1, 1);
      const job = await submitJob(h, m);
      fake.failWith = () => ({
        error: new ProviderCallError('socket hang up after send', 'fakeq', { retryable: false, outcomeUnknown: true }),
        created: true,
      });
      const t0 = Date.now();
      const first = await h.queue.processTick(new Date(t0));
      expect(first.unknown).toBe(1);
      fake.failWith = null;
      expect((await h.db.query(`SELECT status FROM queue_entries WHERE job_id = $1`, [job.jobId]))[0].status).toBe(
        'dispatching',
      );
      // The slot stays taken meanwhile.
      expect((await sampleSlots(h.db)).global).toBe(1);
      const later = await h.queue.processTick(new Date(t0 + minutes(5)));
      expect(later.reconciled.adopted).toBe(1);
      expect(fake.createsFor(job.jobId)).toBe(1);
      expect((await h.db.query(`SELECT status FROM jobs WHERE job_id = $1`, [job.jobId]))[0].status).toBe('queued');
    });
  });

  describe('provider errors', () => {
    beforeEach(() => setLimits({ max_concurrent: 5, user_max_concurrent: 5, org_max_concurrent: 5 }));

    it('backs off a retryable error (30 s·2ⁿ with jitter) and fails after max_attempts', async () => {
      const [m] = await makeMembers(h.db, 1, 1);
      const job = await submitJob(h, m);
      fake.failWith = () => ({ error: new ProviderCallError('HTTP 503', 'fakeq', { retryable: true, status: 503 }) });
      const t0 = Date.now();
      expect((await h.queue.processTick(new Date(t0))).retried).toBe(1);
      const [e1] = await h.db.query(
        `SELECT status, attempt, not_before, last_error FROM queue_entries WHERE job_id = $1`,
        [job.jobId],
      );
      expect(e1).toMatchObject({ status: 'pending', attempt: 1, last_error: 'HTTP 503' });
      const delay = new Date(e1.not_before).getTime() - t0;
      expect(delay).toBeGreaterThanOrEqual(22_500);
      expect(delay).toBeLessThanOrEqual(37_500);
      // Not before the backoff ends.
      expect((await h.queue.processTick(new Date(t0 + 10_000))).claimed).toBe(0);
      const pos = await h.query.position(h.admin!, job.jobId);
      expect(pos).toMatchObject({ blocked_reason: 'backoff', position: 1 });
      expect(pos.estimated_wait_seconds).toBeGreaterThan(0);
      expect((await h.queue.processTick(new Date(t0 + 40_000))).retried).toBe(1);
      const [e2] = await h.db.query(`SELECT attempt, not_before FROM queue_entries WHERE job_id = $1`, [job.jobId]);
      expect(e2.attempt).toBe(2);
      expect(new Date(e2.not_before).getTime() - (t0 + 40_000)).toBeGreaterThanOrEqual(45_000);
      expect((await h.queue.processTick(new Date(t0 + 200_000))).failed).toBe(1);
      const [row] = await h.db.query(
        `SELECT j.status, j.error_message, q.status AS entry FROM jobs j JOIN queue_entries q USING (job_id) WHERE job_id = $1`,
        [job.jobId],
      );
      expect(row.status).toBe('failed');
      expect(row.entry).toBe('failed');
      expect(row.error_message).toMatch(/after 3 attempts: HTTP 503/);
      expect(fake.createsFor(job.jobId)).toBe(0);
    });

    it('fails at once on a 4xx', async () => {
      const [m] = await makeMembers(h.db, 1, 1);
      const job = await submitJob(h, m);
      fake.failWith = () => ({
        error: new ProviderCallError('HTTP 422: invalid input', 'fakeq', { retryable: false, status: 422 }),
      });
      expect((await h.queue.processTick(new Date())).failed).toBe(1);
      const [row] = await h.db.query(`SELECT status, error_message FROM jobs WHERE job_id = $1`, [job.jobId]);
      expect(row.status).toBe('failed');
      expect(row.error_message).toMatch(/rejected the job: HTTP 422/);
      expect((await sampleSlots(h.db)).global).toBe(0);
    });
  });

  describe('a job never goes back from running to queued', () => {
    beforeEach(() => setLimits({ max_concurrent: 5, user_max_concurrent: 5, org_max_concurrent: 5 }));

    it('when a webhook reports processing while the create is still in flight', async () => {
      const [m] = await makeMembers(h.db, 1, 1);
      const job = await submitJob(h, m);
      fake.duringSubmit = async (j) => {
        await h.transitions.transition(j.jobId, 'running', { source: 'test.webhook' });
      };
      expect((await h.queue.processTick(new Date())).dispatched).toBe(1);
      // A late poll result `starting` after that.
      await h.transitions.transition(job.jobId, 'queued', { source: 'test.poll' });
      await h.queue.processTick(new Date());
      const [row] = await h.db.query(
        `SELECT j.status, j.external_id, q.status AS entry FROM jobs j JOIN queue_entries q USING (job_id) WHERE job_id = $1`,
        [job.jobId],
      );
      expect(row).toEqual({ status: 'running', external_id: fake.creates[0].externalId, entry: 'running' });
    });

    it('in every order of webhook `processing`, poll `starting` and the recorded dispatch', async () => {
      const webhook = (id: string) => h.transitions.transition(id, 'running', { source: 'test.webhook' });
      const poll = (id: string) => h.transitions.transition(id, 'queued', { source: 'test.poll' });
      const orders: string[][] = [
        ['webhook', 'poll', 'tick'],
        ['poll', 'webhook', 'tick'],
        ['webhook', 'tick', 'poll'],
        ['poll', 'tick', 'webhook'],
        ['tick', 'webhook', 'poll'],
        ['tick', 'poll', 'webhook'],
      ];
      const [m] = await makeMembers(h.db, 1, 1);
      for (const order of orders) {
        const job = await submitJob(h, m);
        const before = order.slice(0, order.indexOf('tick'));
        const after = order.slice(order.indexOf('tick') + 1);
        const apply = async (step: string) => (step === 'webhook' ? webhook(job.jobId) : poll(job.jobId));
        fake.duringSubmit = async () => {
          for (const step of before) await apply(step);
        };
        expect((await h.queue.processTick(new Date())).dispatched).toBe(1);
        fake.duringSubmit = null;
        for (const step of after) await apply(step);
        const seen: { status: string }[] = await h.db.query(
          `SELECT data->>'status' AS status FROM events WHERE type = 'job_status_changed' AND job_id = $1 ORDER BY id`,
          [job.jobId],
        );
        const statuses = seen.map((e) => e.status);
        // Once running, never queued again; and it ends running with its prediction id.
        expect(statuses.slice(statuses.indexOf('running'))).toEqual(['running']);
        const [row] = await h.db.query(`SELECT status, external_id FROM jobs WHERE job_id = $1`, [job.jobId]);
        expect({ order: order.join(','), ...row }).toEqual({
          order: order.join(','),
          status: 'running',
          external_id: fake.creates[fake.creates.length - 1].externalId,
        });
        await h.transitions.transition(job.jobId, 'completed', { source: 'test.poll' });
      }
    });

    it('when the job already finished before the dispatch was recorded: the slot is freed', async () => {
      const [m] = await makeMembers(h.db, 1, 1);
      const job = await submitJob(h, m);
      fake.duringSubmit = async (j) => {
        await h.transitions.transition(j.jobId, 'completed', { source: 'test.webhook' });
      };
      await h.queue.processTick(new Date());
      const [row] = await h.db.query(
        `SELECT j.status, j.external_id, q.status AS entry FROM jobs j JOIN queue_entries q USING (job_id) WHERE job_id = $1`,
        [job.jobId],
      );
      expect(row).toEqual({ status: 'completed', external_id: fake.creates[0].externalId, entry: 'completed' });
      expect((await sampleSlots(h.db)).global).toBe(0);
    });

    it('carries out a cancel requested during dispatch once the outcome is recorded', async () => {
      const [m] = await makeMembers(h.db, 1, 1);
      const job = await submitJob(h, m);
      fake.duringSubmit = async (j) => {
        await h.db.query(`UPDATE jobs SET cancel_requested_at = now() WHERE job_id = $1`, [j.jobId]);
      };
      await h.queue.processTick(new Date());
      expect(fake.cancels).toEqual([fake.creates[0].externalId]);
      const [row] = await h.db.query(
        `SELECT j.status, q.status AS entry FROM jobs j JOIN queue_entries q USING (job_id) WHERE job_id = $1`,
        [job.jobId],
      );
      expect(row).toEqual({ status: 'cancelled', entry: 'cancelled' });
    });
  });

  it('stops the prediction of a job cancelled through the jobs module while its create was in flight', async () => {
    await setLimits({ max_concurrent: 1, user_max_concurrent: 1, org_max_concurrent: 1 });
    const [m] = await makeMembers(h.db, 1, 1);
    const job = await submitJob(h, m);
    const next = await submitJob(h, m);
    fake.duringSubmit = async (j) => {
      // What POST /jobs/:id/cancel does for a job without external_id: cancelled at once, cancel recorded.
      await h.transitions.transition(j.jobId, 'cancelled', {
        source: 'cancel',
        patch: { cancelRequestedAt: new Date() },
      });
      // The slot stays held until the outcome is recorded: nothing else may be dispatched meanwhile.
      expect((await sampleSlots(h.db)).global).toBe(1);
    };
    await h.queue.processTick(new Date());
    fake.duringSubmit = null;
    expect(fake.cancels).toEqual([fake.creates[0].externalId]);
    const [row] = await h.db.query(
      `SELECT j.status, j.external_id, q.status AS entry FROM jobs j JOIN queue_entries q USING (job_id) WHERE job_id = $1`,
      [job.jobId],
    );
    expect(row).toEqual({ status: 'cancelled', external_id: fake.creates[0].externalId, entry: 'cancelled' });
    // The freed slot goes to the next job on the next tick.
    expect((await h.queue.processTick(new Date())).dispatched).toBe(1);
    expect(fake.createsFor(next.jobId)).toBe(1);
  });

  it('claims the next round while a round of creates is in flight, never more than two rounds at once', async () => {
    await setLimits({ max_concurrent: 250, user_max_concurrent: 250, org_max_concurrent: 250 });
    const [m] = await makeMembers(h.db, 1, 1);
    const jobs = [];
    for (let i = 0; i < 250; i++) jobs.push(await submitJob(h, m));
    let inFlight = 0;
    let peak = 0;
    let overlapped!: () => void;
    const nextRoundStarted = new Promise<void>((resolve) => (overlapped = resolve));
    // A provider whose creates are held until creates of the next round arrive beside them (10 s at most, when
    // the queue waits for a round to finish before claiming the next): no race against a timer.
    const giveUp = setTimeout(() => overlapped(), 10_000);
    fake.duringSubmit = async () => {
      peak = Math.max(peak, ++inFlight);
      if (inFlight > 100) overlapped();
      await nextRoundStarted;
      inFlight--;
    };
    const summary = await h.queue.processTick(new Date());
    clearTimeout(giveUp);
    expect(summary).toMatchObject({ claimed: 250, dispatched: 250 });
    expect(peak).toBeGreaterThan(100); // the next round was claimed while one was in flight...
    expect(peak).toBeLessThanOrEqual(200); // ...and never more than two rounds at once
    expect(new Set(fake.creates.map((c) => c.jobId)).size).toBe(250);
    const [row] = await h.db.query(`SELECT count(*)::int AS n FROM queue_entries WHERE status = 'running'`);
    expect(row.n).toBe(250);
  });
});
