import { generateApiKey } from '../../src/auth/api-key.util';
import type { CreateQuotaDto } from '../../src/quotas/quotas.dto';
import { QuotasService } from '../../src/quotas';
import {
  FakeQueueProvider,
  makeMembers,
  QueueHarness,
  setQueueLimits,
  startQueueServices,
  submitJob,
} from '../support/queue-fixtures';
import type { ServiceModule } from '../support/service-module';
import { createTestDatabase, TestDatabase } from '../support/test-database';

interface Instance {
  m: ServiceModule;
  h: QueueHarness;
  fake: FakeQueueProvider;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Quotas at dispatch with two instances of the app's services on one PostgreSQL: a concurrent_jobs quota is a
 * per-subject limit the claim holds exactly, a cost budget that actual spend filled keeps entries waiting until the
 * quota changes, and a finished job's cost sends the 80 % notice once. Every tick here is the test's.
 */
describe('quotas at dispatch (PostgreSQL, two instances)', () => {
  let database: TestDatabase;
  let a: Instance;
  let b: Instance;
  const adminKey = generateApiKey();

  async function instance(): Promise<Instance> {
    const { m, h } = await startQueueServices({ database, env: { SIMPLETUNER_ADMIN_API_KEY: adminKey } });
    const fake = new FakeQueueProvider();
    h.registry.register(fake);
    return { m, h, fake };
  }
  const quotas = () => a.m.get(QuotasService);
  const addQuota = (dto: Partial<CreateQuotaDto>) =>
    quotas().create(a.h.admin!, { action: 'block', scope: 'global', ...dto } as CreateQuotaDto);
  const bothTick = () => Promise.all([a.h.queue.processTick(new Date()), b.h.queue.processTick(new Date())]);
  const inUse = async (column: 'user_id' | 'org_id', id: string) => {
    const [{ n }] = await a.h.db.query(
      `SELECT count(*)::int AS n FROM queue_entries WHERE status IN ('dispatching', 'running') AND ${column} = $1`,
      [id],
    );
    return n as number;
  };
  const reason = async (jobId: string) => (await b.h.query.position(b.h.admin!, jobId)).blocked_reason;

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
  beforeEach(async () => {
    for (const q of await quotas().list(a.h.admin!)) await quotas().remove(a.h.admin!, q.id);
    await a.h.db.query(
      `UPDATE queue_entries SET status = 'cancelled' WHERE status NOT IN ('completed','failed','cancelled')`,
    );
    await a.h.db.query(`UPDATE jobs SET status = 'cancelled' WHERE status NOT IN ('completed','failed','cancelled')`);
  });

  it('holds a user concurrent_jobs quota of 1 exactly while both instances claim, creates in flight', async () => {
    await setQueueLimits(a.h, { max_concurrent: 20, user_max_concurrent: 3, org_max_concurrent: 20 });
    const [rita, other] = await makeMembers(a.h.db, 1, 2);
    await addQuota({ scope: 'user', scope_id: rita.id, type: 'concurrent_jobs', limit: 1 });
    const jobs = [];
    for (let i = 0; i < 6; i++) jobs.push(await submitJob(i % 2 ? b.h : a.h, rita));
    const others = [await submitJob(a.h, other), await submitJob(a.h, other)];

    // Creates wait until the test lets them go: claimed entries stay `dispatching` meanwhile.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    for (const x of [a, b]) x.fake.duringSubmit = () => released;
    const ticks = bothTick();
    for (let i = 0; i < 100 && (await inUse('user_id', other.id)) < 2; i++) await sleep(20);
    expect(await inUse('user_id', rita.id)).toBe(1);
    expect(await inUse('user_id', other.id)).toBe(2);
    release();
    await ticks;
    for (const x of [a, b]) x.fake.duringSubmit = null;

    // Running now: more ticks on both instances take nothing more of rita's.
    await bothTick();
    expect(await inUse('user_id', rita.id)).toBe(1);
    const [first] = await a.h.db.query(`SELECT job_id FROM queue_entries WHERE user_id = $1 AND status = 'running'`, [
      rita.id,
    ]);
    const waiting = jobs.map((j) => j.jobId).filter((id) => id !== first.job_id);
    expect(await reason(waiting[0])).toBe('quota_limit');
    expect(others.length).toBe(2);

    // Her running job ends: the next one starts, still one at a time.
    await a.h.transitions.transition(first.job_id, 'completed', { source: 'test' });
    await bothTick();
    expect(await inUse('user_id', rita.id)).toBe(1);

    // Raising the quota frees her other entries at the next tick (user limit 3).
    const [q] = await quotas().list(a.h.admin!);
    await quotas().update(a.h.admin!, q.id, { limit: 5 });
    await bothTick();
    expect(await inUse('user_id', rita.id)).toBe(3);
  });

  it('holds an org concurrent_jobs quota across two users and instances', async () => {
    await setQueueLimits(a.h, { max_concurrent: 20, user_max_concurrent: 5, org_max_concurrent: 20 });
    const [u1, u2] = await makeMembers(a.h.db, 1, 2);
    await addQuota({ scope: 'org', scope_id: u1.orgId, type: 'concurrent_jobs', limit: 3 });
    const jobs = [];
    for (let i = 0; i < 4; i++) jobs.push(await submitJob(a.h, u1), await submitJob(b.h, u2));
    await bothTick();
    await bothTick();
    expect(await inUse('org_id', u1.orgId)).toBe(3);
    const [pending] = await a.h.db.query(`SELECT job_id FROM queue_entries WHERE org_id = $1 AND status = 'pending'`, [
      u1.orgId,
    ]);
    expect(await reason(pending.job_id)).toBe('quota_limit');
  });

  it('keeps an entry waiting once actual spend filled the budget, and starts it when the quota is raised', async () => {
    await setQueueLimits(a.h, { max_concurrent: 20, user_max_concurrent: 5, org_max_concurrent: 20 });
    const [u] = await makeMembers(a.h.db, 1, 1);
    const spent = await submitJob(a.h, u);
    const queued = await submitJob(a.h, u);
    const estimate = Number(queued.costEstimate);
    expect(estimate).toBeGreaterThan(0);
    // After both submits, the first job ran and cost far more than estimated: the budget is used up.
    const quota = await addQuota({ scope: 'org', scope_id: u.orgId, type: 'cost_monthly', limit: 3 * estimate });
    await a.h.db.query(`UPDATE queue_entries SET status = 'completed', finished_at = now() WHERE job_id = $1`, [
      spent.jobId,
    ]);
    await a.h.db.query(
      `UPDATE jobs SET status = 'completed', cost_usd = $2, external_id = 'p_spent' WHERE job_id = $1`,
      [spent.jobId, 2.5 * estimate],
    );
    const [ta, tb] = await bothTick();
    expect(ta.claimed + tb.claimed).toBe(0);
    expect(await reason(queued.jobId)).toBe('budget_exhausted');

    // Raised: the next tick starts it, no restart.
    await quotas().update(a.h.admin!, quota.id, { limit: 4 * estimate });
    expect(await reason(queued.jobId)).toBeNull();
    const [ra, rb] = await bothTick();
    expect(ra.dispatched + rb.dispatched).toBe(1);
    expect(await inUse('user_id', u.id)).toBe(1);
  });

  it("sends quota_threshold once when a finished job's cost takes a subject past 80 %", async () => {
    const [u] = await makeMembers(a.h.db, 1, 1);
    const first = await submitJob(a.h, u);
    const second = await submitJob(a.h, u);
    const estimate = Number(first.costEstimate);
    const quota = await addQuota({
      scope: 'user',
      scope_id: u.id,
      type: 'cost_daily',
      action: 'warn',
      limit: 10 * estimate,
    });
    const notices = async () =>
      (
        await a.h.db.query(
          `SELECT count(*)::int AS n FROM events WHERE type = 'quota_threshold' AND data->>'quota_id' = $1`,
          [quota.id],
        )
      )[0].n as number;
    await a.h.transitions.transition(first.jobId, 'completed', { source: 'test', patch: { costUsd: 9 * estimate } });
    expect(await notices()).toBe(1);
    await a.h.transitions.transition(second.jobId, 'completed', { source: 'test', patch: { costUsd: estimate } });
    expect(await notices()).toBe(1);
  });
});
