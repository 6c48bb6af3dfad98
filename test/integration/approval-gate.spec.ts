import { randomUUID } from 'node:crypto';
import { ApprovalGate } from '../../src/approvals';
import { ApprovalRulesService } from '../../src/approvals/approval-rules.service';
import type { CreateRuleDto } from '../../src/approvals/approvals.dto';
import type { AuthenticatedUser } from '../../src/auth';
import type { SubmittedJob } from '../../src/jobs';
import type { SubmitJobDto } from '../../src/jobs/jobs.dto';
import { SubmitPipeline } from '../../src/jobs/pipeline/submit.pipeline';
import { CHEAP, EXPENSIVE } from '../support/approval-fixtures';
import { actorFor, createActor, createOrg } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';
import { TestClock } from '../support/test-clock';

const HOUR = 3600_000;

/**
 * The submit's approval gate (ApprovalGate.evaluate) with the seeded rules and rules an admin adds: which rule holds
 * a job, for whom, and why. Decisions are shown twice: what the gate answers for given facts, and what a real submit
 * through the pipeline leaves behind (the approval request, the blocked entry).
 */
describe('approval gate (PostgreSQL)', () => {
  const clock = new TestClock();
  let services: ServiceModule;
  let gate: ApprovalGate;
  let rules: ApprovalRulesService;
  let admin: AuthenticatedUser;
  let org: string;
  let made: string[] = [];
  let people = 0;

  const person = (level: 'researcher' | 'lead' | 'admin') =>
    createActor(services.module, admin, `${level}-${++people}`, level, org);
  const facts = (user: AuthenticatedUser, over: Partial<SubmittedJob> = {}): SubmittedJob => ({
    jobId: randomUUID(),
    userId: user.id,
    orgId: user.orgId,
    provider: 'simulator',
    hardwareProfile: 'l40s',
    configName: 'lora',
    priority: 10,
    costEstimate: 1,
    maxAttempts: 3,
    startAfter: null,
    maxWaitSeconds: null,
    submittedAt: clock.now(),
    ...over,
  });
  const addRule = async (dto: CreateRuleDto) => {
    const rule = await rules.create(admin, dto);
    made.push(rule.id);
    return rule;
  };
  /** A submit through the pipeline; the held job's request, its entry, and the events the submit wrote. */
  async function submit(user: AuthenticatedUser, body: Partial<SubmitJobDto> = CHEAP) {
    const dto = { config_name: 'lora', config: {}, provider: 'simulator', ...body } as SubmitJobDto;
    const { body: out } = await services.get(SubmitPipeline).submit(user, dto);
    const [request] = await services.db.query(`SELECT * FROM approval_requests WHERE job_id = $1`, [out.job_id]);
    const [entry] = await services.db.query(`SELECT status, blocked_reason FROM queue_entries WHERE job_id = $1`, [
      out.job_id,
    ]);
    const events = await services.db.query<{ type: string }[]>(
      `SELECT type FROM events WHERE job_id = $1 ORDER BY id`,
      [out.job_id],
    );
    return { out, request, entry, events: events.map((e) => e.type) };
  }

  beforeAll(async () => {
    services = await startServiceModule({ clock });
    gate = services.get(ApprovalGate);
    rules = services.get(ApprovalRulesService);
    admin = await actorFor(services.module, services.adminKey);
    org = await createOrg(services.module, admin, 'gate-lab');
  });
  afterAll(async () => {
    await services?.close();
  });
  afterEach(async () => {
    clock.release();
    for (const id of made) await rules.remove(admin, id);
    made = [];
  });

  it("first job: a researcher's first job waits for a lead; any earlier job, whatever its status, lets the next pass", async () => {
    const rita = await person('researcher');
    const hold = await gate.evaluate(facts(rita), rita, { hasEarlierJob: false, jobsLast24h: 1 });
    expect(hold).toMatchObject({ reason: 'First job submitted by this user (rule "First Job Review")' });
    expect(hold?.events).toEqual([
      expect.objectContaining({
        type: 'approval_required',
        data: expect.objectContaining({ rule_name: 'First Job Review', required_approver_level: 'lead' }),
      }),
    ]);
    expect(await gate.evaluate(facts(rita), rita, { hasEarlierJob: true, jobsLast24h: 2 })).toBeNull();

    const first = await submit(rita);
    expect(first.out).toMatchObject({ requires_approval: true, approval_id: first.request.id, queue_position: null });
    expect(first.request).toMatchObject({ rule_name: 'First Job Review', status: 'pending', user_id: rita.id });
    expect(first.entry).toEqual({ status: 'blocked', blocked_reason: 'awaiting_approval' });
    expect(first.events).toEqual(['job_submitted', 'approval_required']);
    // The first job still waits (blocked): it counts as an earlier job all the same.
    const second = await submit(rita);
    expect(second.out).toMatchObject({ requires_approval: false, queue_position: expect.any(Number) });
    expect(second.request).toBeUndefined();
    expect(second.entry).toEqual({ status: 'pending', blocked_reason: null });
    expect(second.events).toEqual(['job_submitted']);
  });

  it('cost: above $50 waits for a lead under "High Cost Jobs", which outranks the first-job rule', async () => {
    const rita = await person('researcher');
    const history = { hasEarlierJob: true, jobsLast24h: 2 };
    expect(await gate.evaluate(facts(rita, { costEstimate: 50 }), rita, history)).toBeNull();
    expect(await gate.evaluate(facts(rita, { costEstimate: 50.01 }), rita, history)).toMatchObject({
      reason: 'Estimated cost $50.01 exceeds $50.00 (rule "High Cost Jobs")',
    });
    // A first job that is also expensive: the higher-priority rule names the reason.
    const both = await gate.evaluate(facts(rita, { costEstimate: 61 }), rita, { hasEarlierJob: false, jobsLast24h: 1 });
    expect(both?.reason).toBe('Estimated cost $61.00 exceeds $50.00 (rule "High Cost Jobs")');

    const lena = await person('lead');
    const held = await submit(lena, EXPENSIVE);
    expect(held.out.cost_estimate).toBeGreaterThan(50);
    expect(held.request).toMatchObject({
      rule_name: 'High Cost Jobs',
      required_approver_level: 'lead',
      reason: `Estimated cost $${held.out.cost_estimate.toFixed(2)} exceeds $50.00 (rule "High Cost Jobs")`,
    });
    expect(Number(held.request.estimated_cost)).toBeCloseTo(held.out.cost_estimate, 4);
    expect(held.entry).toEqual({ status: 'blocked', blocked_reason: 'awaiting_approval' });
    expect((await submit(lena, CHEAP)).out.requires_approval).toBe(false);
  });

  it('exempt levels: admins pass both seeded rules; a rule exempting leads holds researchers only', async () => {
    const ada = await person('admin');
    expect(
      await gate.evaluate(facts(ada, { costEstimate: 500 }), ada, { hasEarlierJob: false, jobsLast24h: 1 }),
    ).toBeNull();
    const expensive = await submit(ada, EXPENSIVE);
    expect(expensive.out.requires_approval).toBe(false);
    expect(expensive.entry).toEqual({ status: 'pending', blocked_reason: null });

    const rule = await addRule({
      name: 'Large GPUs',
      condition: 'hardware_type',
      threshold: 'h100*',
      priority: 200,
      exempt_levels: ['lead', 'admin'],
    });
    const [rita, lena] = [await person('researcher'), await person('lead')];
    await submit(rita); // rita's first job, out of the way of this rule
    const big = { hardware_profile: 'h100-x2', config: { estimated_duration_seconds: 60 } };
    const researcher = await submit(rita, big);
    expect(researcher.request).toMatchObject({
      rule_name: 'Large GPUs',
      reason: 'Hardware profile h100-x2 matches h100* (rule "Large GPUs")',
    });
    expect((await submit(lena, big)).out.requires_approval).toBe(false);
    // Once leads are no longer exempt, the next submit of a lead is held too (the change reaches the gate at once).
    await rules.update(admin, rule.id, { exempt_levels: ['admin'] });
    expect((await submit(lena, big)).request).toMatchObject({ rule_name: 'Large GPUs' });
  });

  it('daily count: the job past the limit in the last 24 h waits; a day later the count starts again', async () => {
    await addRule({ name: 'Three a day', condition: 'daily_jobs_exceed', threshold: 3, priority: 300 });
    const lena = await person('lead');
    expect(await gate.evaluate(facts(lena), lena, { hasEarlierJob: true, jobsLast24h: 3 })).toBeNull();
    expect(await gate.evaluate(facts(lena), lena, { hasEarlierJob: true, jobsLast24h: 4 })).toMatchObject({
      reason: '4 jobs submitted in the last 24 hours exceeds 3 (rule "Three a day")',
    });

    const t0 = Date.now();
    clock.set(t0);
    for (let i = 0; i < 3; i++) expect((await submit(lena)).out.requires_approval).toBe(false);
    const fourth = await submit(lena);
    expect(fourth.request).toMatchObject({
      rule_name: 'Three a day',
      reason: '4 jobs submitted in the last 24 hours exceeds 3 (rule "Three a day")',
      expires_at: new Date(t0 + 24 * HOUR),
    });
    expect(fourth.entry).toEqual({ status: 'blocked', blocked_reason: 'awaiting_approval' });
    // Another user has a count of its own.
    expect((await submit(await person('lead'))).out.requires_approval).toBe(false);
    // A day later the four are outside the window.
    clock.set(t0 + 25 * HOUR);
    expect((await submit(lena)).out.requires_approval).toBe(false);
  });

  it('writes nothing itself: the request and its event exist only once the submit writes them with the job', async () => {
    const rita = await person('researcher');
    const count = async () =>
      (
        await services.db.query<{ requests: number; events: number }[]>(
          `SELECT (SELECT count(*)::int FROM approval_requests) AS requests,
                  (SELECT count(*)::int FROM events WHERE type = 'approval_required') AS events`,
        )
      )[0];
    const before = await count();
    const hold = await gate.evaluate(facts(rita), rita, { hasEarlierJob: false, jobsLast24h: 1 });
    expect(hold).not.toBeNull();
    expect(await count()).toEqual(before);
  });
});
