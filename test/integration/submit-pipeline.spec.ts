import { Client } from 'pg';
import type { AuthenticatedUser } from '../../src/auth';
import { ConflictError } from '../../src/common/errors';
import { EventHub } from '../../src/events';
import type { EventSink } from '../../src/events/event-hub';
import type { LoggedEvent } from '../../src/events/events.types';
import { SubmitPipeline, SubmitResult } from '../../src/jobs/pipeline/submit.pipeline';
import type { SubmitJobDto } from '../../src/jobs/jobs.dto';
import { QueueEntriesService } from '../../src/queue';
import { actorFor, asRequest, createActor, createOrg } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';
import { TestClock } from '../support/test-clock';

/** What another session sees: ids of jobs, entries (with status), approval requests and job events. */
interface Seen {
  jobs: string[];
  entries: string[];
  approvals: string[];
  events: string[];
}

const SEEN_SQL = `SELECT array(SELECT job_id::text FROM jobs) AS jobs,
       array(SELECT job_id::text || ':' || status FROM queue_entries) AS entries,
       array(SELECT job_id::text FROM approval_requests) AS approvals,
       array(SELECT job_id || ':' || type FROM events WHERE job_id IS NOT NULL) AS events`;

/**
 * Reads the tables from a connection of its own (another instance's view) at the moment it is called. The query goes
 * out at once; the caller's thread then stays blocked briefly, so the snapshot is taken before the code that called
 * the callback can take its next step (a COMMIT still to come would not be in it).
 */
function observeNow(observer: Client): Promise<Seen> {
  const seen = observer.query<Seen>(SEEN_SQL);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  return seen.then((r) => r.rows[0]);
}

async function waitFor(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!done()) throw new Error(`timed out waiting for ${what}`);
}

/**
 * SubmitPipeline.submit on the app's services and PostgreSQL: the rows one submit writes, idempotent replays, and the
 * order of its effects. Two real subscribers watch the effects that must follow the commit: the queue's wake-up
 * (QueueEntriesService.onWake, what the processing tick listens to) and the events hub (what every event stream reads
 * from); each looks at the tables from a second connection at the moment it is called.
 */
describe('submit pipeline (PostgreSQL)', () => {
  const clock = new TestClock();
  let services: ServiceModule;
  let pipeline: SubmitPipeline;
  let lead: AuthenticatedUser;
  let rita: AuthenticatedUser;
  const observers: Client[] = [];
  /** What another connection saw at each queue wake-up, and at each event the hub delivered. */
  let wakes: Promise<Seen>[] = [];
  let delivered: { event: LoggedEvent; seen: Promise<Seen> }[] = [];
  const sink: EventSink = {
    deliver: (events) => {
      const seen = observeNow(observers[1]);
      for (const event of events) delivered.push({ event, seen });
    },
    heartbeat: () => undefined,
    close: () => undefined,
  };

  const job = (over: Partial<SubmitJobDto> = {}): SubmitJobDto => ({
    config_name: 'lora',
    config: { estimated_duration_seconds: 60 },
    provider: 'simulator',
    hardware_profile: 'l40s',
    ...over,
  });
  const submit = (user: AuthenticatedUser, dto: SubmitJobDto) => asRequest(() => pipeline.submit(user, dto));
  const rows = (sql: string, params: unknown[]) => services.db.query<any[]>(sql, params);
  /**
   * A marker job: once the hub has delivered its event and the queue has been woken for it, every event and wake-up
   * of what committed before it has come.
   */
  const flushEvents = async () => {
    const woken = wakes.length;
    const { result } = await submit(lead, job({ config_name: 'marker' }));
    await waitFor('the marker event', () => delivered.some((d) => d.event.jobId === result.body.job_id));
    await waitFor("the marker's wake-up", () => wakes.length > woken);
    return result.body.job_id;
  };

  beforeAll(async () => {
    services = await startServiceModule({ clock });
    pipeline = services.get(SubmitPipeline);
    const admin = await actorFor(services.module, services.adminKey);
    const org = await createOrg(services.module, admin, 'submit-lab');
    lead = await createActor(services.module, admin, 'lena', 'lead', org);
    rita = await createActor(services.module, admin, 'rita', 'researcher', org);
    for (let i = 0; i < 2; i++) {
      const observer = new Client({ connectionString: services.database!.url });
      await observer.connect();
      observers.push(observer);
    }
    services.get(QueueEntriesService).onWake(() => wakes.push(observeNow(observers[0])));
    services.get(EventHub).attach(sink);
  });
  afterAll(async () => {
    services?.get(EventHub).detach(sink);
    await Promise.allSettled([...wakes, ...delivered.map((d) => d.seen)]);
    await Promise.all(observers.map((o) => o.end()));
    await services?.close();
  });
  beforeEach(async () => {
    clock.release();
    // Everything earlier tests published has reached the stream; their entries leave the queue (positions start
    // from an empty queue).
    await flushEvents();
    await services.db.query(`UPDATE queue_entries SET status = 'cancelled' WHERE status IN ('pending','blocked')`);
    wakes = [];
    delivered = [];
  });

  it('writes the job, its pending entry with its position and job_submitted, then wakes the queue', async () => {
    const t = new Date('2031-03-04T05:06:07Z');
    clock.set(t);
    const { result, correlationId } = await submit(lead, job({ priority: 10 }));
    expect(result).toEqual<SubmitResult>({
      created: true,
      body: {
        job_id: expect.any(String),
        status: 'pending',
        requires_approval: false,
        cost_estimate: expect.any(Number),
        queue_position: 1,
        dataloader_config: null,
        lycoris_config: null,
        dataset: null,
        hub_model_id: null,
        max_train_steps: null,
        secrets: [],
      },
    });
    const id = result.body.job_id;
    expect(await rows(`SELECT * FROM jobs WHERE job_id = $1`, [id])).toEqual([
      expect.objectContaining({
        user_id: lead.id,
        org_id: lead.orgId,
        status: 'pending',
        provider: 'simulator',
        config_name: 'lora',
        config: { estimated_duration_seconds: 60 },
        hardware_profile: 'l40s',
        priority: 10,
        requires_approval: false,
        approval_id: null,
        correlation_id: correlationId,
      }),
    ]);
    expect(Number((await rows(`SELECT cost_estimate FROM jobs WHERE job_id = $1`, [id]))[0].cost_estimate)).toBe(
      result.body.cost_estimate,
    );
    expect(await rows(`SELECT * FROM queue_entries WHERE job_id = $1`, [id])).toEqual([
      expect.objectContaining({
        status: 'pending',
        blocked_reason: null,
        base_priority: 10,
        effective_priority: 10,
        pending_since: t, // the services' clock, not the database's
      }),
    ]);
    expect(await rows(`SELECT type, user_id, org_id, data FROM events WHERE job_id = $1`, [id])).toEqual([
      {
        type: 'job_submitted',
        user_id: lead.id,
        org_id: lead.orgId,
        data: expect.objectContaining({
          type: 'job_submitted',
          job_id: id,
          status: 'pending',
          provider: 'simulator',
          config_name: 'lora',
          cost_estimate: result.body.cost_estimate,
          requires_approval: false,
        }),
      },
    ]);

    // A higher priority goes ahead; an equal one queues behind both.
    expect((await submit(lead, job({ priority: 20 }))).result.body.queue_position).toBe(1);
    expect((await submit(lead, job({ priority: 10 }))).result.body.queue_position).toBe(3);
    expect((await services.get(QueueEntriesService).positions([id])).get(id)).toBe(2);

    // The wake-up came after the commit: another session already saw the job, its entry and its event.
    await waitFor('three wake-ups', () => wakes.length === 3);
    const atWake = await wakes[0];
    expect(atWake.jobs).toContain(id);
    expect(atWake.entries).toContain(`${id}:pending`);
    expect(atWake.events).toContain(`${id}:job_submitted`);
    // So did the event stream: when job_submitted reached it, the job and its entry were there.
    await waitFor('job_submitted', () => delivered.some((d) => d.event.jobId === id));
    const atEvent = await delivered.find((d) => d.event.jobId === id)!.seen;
    expect(atEvent.jobs).toContain(id);
    expect(atEvent.entries).toContain(`${id}:pending`);
  });

  it('holds a job for approval before it joins the queue: request first, entry blocked, no wake-up', async () => {
    const t = new Date('2031-05-06T07:08:09Z');
    clock.set(t);
    // rita's first job: the seeded "First Job Review" rule holds it for a lead.
    const { result } = await submit(rita, job());
    expect(result.body).toMatchObject({ status: 'pending', requires_approval: true, queue_position: null });
    const id = result.body.job_id;
    const approvalId = result.body.approval_id!;
    expect(await rows(`SELECT * FROM approval_requests WHERE job_id = $1`, [id])).toEqual([
      expect.objectContaining({
        id: approvalId,
        user_id: rita.id,
        org_id: rita.orgId,
        rule_name: 'First Job Review',
        required_approver_level: 'lead',
        status: 'pending',
        reason: 'First job submitted by this user (rule "First Job Review")',
        created_at: t,
        expires_at: new Date(t.getTime() + 24 * 3600_000),
      }),
    ]);
    expect(await rows(`SELECT requires_approval, approval_id FROM jobs WHERE job_id = $1`, [id])).toEqual([
      { requires_approval: true, approval_id: approvalId },
    ]);
    expect(
      await rows(`SELECT status, blocked_reason, pending_since FROM queue_entries WHERE job_id = $1`, [id]),
    ).toEqual([{ status: 'blocked', blocked_reason: 'awaiting_approval', pending_since: null }]);
    const events = await rows(`SELECT type, data FROM events WHERE job_id = $1 ORDER BY id`, [id]);
    expect(events.map((e) => e.type)).toEqual(['job_submitted', 'approval_required']);
    expect(events[0].data).toMatchObject({ requires_approval: true });
    expect(events[1].data).toMatchObject({
      approval_id: approvalId,
      rule_name: 'First Job Review',
      required_approver_level: 'lead',
      expires_at: new Date(t.getTime() + 24 * 3600_000).toISOString(),
    });
    // A held job does not wake the queue (the one wake-up is the marker's); the stream got both events in order,
    // and with them the request.
    await flushEvents();
    expect(wakes).toHaveLength(1);
    const forJob = delivered.filter((d) => d.event.jobId === id);
    expect(forJob.map((d) => d.event.type)).toEqual(['job_submitted', 'approval_required']);
    const atEvent = await forJob[0].seen;
    expect(atEvent.approvals).toContain(id);
    expect(atEvent.entries).toContain(`${id}:blocked`);
  });

  describe('idempotency keys', () => {
    const count = async (sql: string, params: unknown[]) => (await rows(sql, params))[0].n as number;
    const written = async (key: string) => ({
      jobs: await count(`SELECT count(*)::int AS n FROM jobs WHERE idempotency_key = $1`, [key]),
      entries: await count(
        `SELECT count(*)::int AS n FROM queue_entries q JOIN jobs j USING (job_id) WHERE j.idempotency_key = $1`,
        [key],
      ),
      events: await count(
        `SELECT count(*)::int AS n FROM events e JOIN jobs j ON j.job_id::text = e.job_id WHERE j.idempotency_key = $1`,
        [key],
      ),
    });

    it('replays the same request as the first job, writing and waking nothing more', async () => {
      const first = await submit(lead, job({ idempotency_key: 'replay-1' }));
      expect(first.result.created).toBe(true);
      const id = first.result.body.job_id;
      // The keyed write runs in a transaction: its wake-up still waits for the commit.
      await waitFor('the wake-up', () => wakes.length === 1);
      const atWake = await wakes[0];
      expect(atWake.jobs).toContain(id);
      expect(atWake.entries).toContain(`${id}:pending`);

      const again = await submit(lead, job({ idempotency_key: 'replay-1' }));
      expect(again.result).toEqual({
        created: false,
        body: { ...first.result.body, idempotent_hit: true },
      });
      expect(await written('replay-1')).toEqual({ jobs: 1, entries: 1, events: 1 });
      const marker = await flushEvents();
      expect(wakes).toHaveLength(2); // the first submit's and the marker's
      expect(delivered.map((d) => d.event.jobId)).toEqual([id, marker]);
    });

    it('refuses the key with another request (conflict naming the first job), writing and waking nothing', async () => {
      const first = await submit(lead, job({ idempotency_key: 'conflict-1' }));
      const other = submit(lead, job({ idempotency_key: 'conflict-1', config_name: 'another' }));
      await expect(other).rejects.toBeInstanceOf(ConflictError);
      await expect(other).rejects.toMatchObject({ status: 409, details: { job_id: first.result.body.job_id } });
      expect(await written('conflict-1')).toEqual({ jobs: 1, entries: 1, events: 1 });
      const marker = await flushEvents();
      expect(wakes).toHaveLength(2); // the first submit's and the marker's
      expect(delivered.map((d) => d.event.jobId)).toEqual([first.result.body.job_id, marker]);
    });

    it('lets one of two racing submits win the key; the other rolls back and wakes nothing', async () => {
      const [x, y] = await Promise.all([
        submit(lead, job({ idempotency_key: 'race-1' })),
        submit(lead, job({ idempotency_key: 'race-1' })),
      ]);
      expect([x.result.created, y.result.created].sort()).toEqual([false, true]);
      expect(x.result.body.job_id).toBe(y.result.body.job_id);
      const id = x.result.body.job_id;
      expect(await written('race-1')).toEqual({ jobs: 1, entries: 1, events: 1 });
      // One wake-up, the winner's, after its commit (and the marker's).
      const marker = await flushEvents();
      expect(wakes).toHaveLength(2);
      expect((await wakes[0]).entries).toContain(`${id}:pending`);
      expect(delivered.map((d) => d.event.jobId)).toEqual([id, marker]);
    });
  });
});
