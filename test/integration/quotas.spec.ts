import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApprovalsService } from '../../src/approvals';
import type { AuthenticatedUser } from '../../src/auth';
import { AppError, QuotaExceededError } from '../../src/common/errors';
import type { SubmitJobDto } from '../../src/jobs/jobs.dto';
import { SubmitPipeline } from '../../src/jobs/pipeline/submit.pipeline';
import type { CreateQuotaDto } from '../../src/quotas/quotas.dto';
import { QuotasService } from '../../src/quotas';
import { UsageService } from '../../src/quotas/usage.service';
import { MetricsService } from '../../src/metrics';
import { actorFor, createActor, createOrg, setRuleActive, statusOf } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';
import { TestClock } from '../support/test-clock';

const HOUR = 3600_000;
/** A Wednesday at 10:00 UTC: the day's and the month's windows are well inside. */
const T0 = Date.UTC(2026, 11, 9, 10, 0, 0);

/**
 * Quotas at the service level on PostgreSQL: who may manage which quota, what a submit does at a warn or
 * require_approval quota, the 80 % notice, what /quotas/me reports, and the usage report per level scope.
 */
describe('quotas (PostgreSQL)', () => {
  const clock = new TestClock();
  let services: ServiceModule;
  let quotas: QuotasService;
  let usage: UsageService;
  let admin: AuthenticatedUser;
  let orgA: string;
  let orgB: string;
  let leadA: AuthenticatedUser;
  let leadA2: AuthenticatedUser;
  let leadB: AuthenticatedUser;
  let rita: AuthenticatedUser;
  let rob: AuthenticatedUser;
  let logFile: string;
  let people = 0;

  const person = (level: 'researcher' | 'lead', org: string) =>
    createActor(services.module, admin, `${level}-${++people}`, level, org);
  const add = (caller: AuthenticatedUser, dto: Partial<CreateQuotaDto>) =>
    quotas.create(caller, { action: 'block', type: 'jobs_per_day', limit: 10, ...dto } as CreateQuotaDto);
  const submit = (user: AuthenticatedUser, over: Partial<SubmitJobDto> = {}) =>
    services.get(SubmitPipeline).submit(user, { config_name: 'q', config: {}, provider: 'simulator', ...over });
  /** A submit at `at` (the clock's time, and the job's created_at: the database stamps its own now()). */
  async function submitAt(user: AuthenticatedUser, at: number, over: Partial<SubmitJobDto> = {}) {
    clock.set(at);
    const result = await submit(user, over);
    if (result.created)
      await rows(`UPDATE jobs SET created_at = $2 WHERE job_id = $1`, [result.body.job_id, new Date(at)]);
    return result;
  }
  const rows = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    services.db.query<T[]>(sql, params);
  const errorOf = (call: Promise<unknown>) =>
    call.then(
      () => null,
      (err: unknown) => {
        if (err instanceof AppError) return err;
        throw err;
      },
    );
  async function logLine(message: RegExp): Promise<Record<string, unknown>> {
    for (let i = 0; i < 100; i++) {
      const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      const hit = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => message.test(String(l.message)));
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no log line ${message}`);
  }
  /** Removes every quota (as an admin) so that each test starts with none. */
  async function clearQuotas() {
    for (const q of await quotas.list(admin)) await quotas.remove(admin, q.id);
  }

  beforeAll(async () => {
    logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'st-quotas-log-')), 'cloud.log');
    services = await startServiceModule({
      clock,
      env: { SIMPLETUNER_LOG_LEVEL: 'INFO', SIMPLETUNER_LOG_FORMAT: 'json', SIMPLETUNER_LOG_FILE: logFile },
    });
    quotas = services.get(QuotasService);
    usage = services.get(UsageService);
    admin = await actorFor(services.module, services.adminKey);
    orgA = await createOrg(services.module, admin, 'quota-a');
    orgB = await createOrg(services.module, admin, 'quota-b');
    leadA = await person('lead', orgA);
    leadA2 = await person('lead', orgA);
    leadB = await person('lead', orgB);
    rita = await person('researcher', orgA);
    rob = await person('researcher', orgB);
    await setRuleActive(services.module, admin, 'First Job Review', false);
  });
  afterAll(async () => {
    await services?.close();
    if (logFile) fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
  });
  afterEach(async () => {
    clock.release();
    await clearQuotas();
  });

  describe('rights', () => {
    it("a lead manages its members' user quotas and its org's quota, nothing else", async () => {
      const own = await add(leadA, { scope: 'user', scope_id: rita.id });
      expect(own.createdBy).toBe(leadA.id);
      await add(leadA, { scope: 'org', scope_id: orgA });
      // Another org's user or org reads as none (400 naming scope_id); global, level, provider are refused (403).
      for (const dto of [
        { scope: 'user', scope_id: rob.id },
        { scope: 'org', scope_id: orgB },
      ] as const) {
        const err = await errorOf(add(leadA, dto));
        expect(err?.status).toBe(400);
        expect(err?.details).toHaveProperty('scope_id');
      }
      for (const dto of [
        { scope: 'global' },
        { scope: 'level', scope_id: 'researcher' },
        { scope: 'provider', scope_id: 'simulator' },
      ] as const)
        expect(await statusOf(add(leadA, dto))).toBe(403);
      expect(await statusOf(add(rita, { scope: 'user', scope_id: rita.id }))).toBe(403);

      // What a lead may not see is 404; its list holds its org's quotas only.
      const global = await add(admin, { scope: 'global' });
      const other = await add(admin, { scope: 'org', scope_id: orgB });
      for (const id of [global.id, other.id]) {
        expect(await statusOf(quotas.get(leadA, id))).toBe(404);
        expect(await statusOf(quotas.update(leadA, id, { limit: 1 }))).toBe(404);
        expect(await statusOf(quotas.remove(leadA, id))).toBe(404);
      }
      expect((await quotas.list(leadA)).map((q) => q.scope).sort()).toEqual(['org', 'user']);
      expect((await quotas.list(leadB)).map((q) => q.id)).toEqual([other.id]);
    });

    it('a lead lowers an admin-set org quota but never raises, loosens, switches off or deletes it', async () => {
      const q = await add(admin, { scope: 'org', scope_id: orgA, limit: 10, action: 'warn' });
      expect((await quotas.update(leadA, q.id, { limit: 8 })).limit).toBe(8);
      expect((await quotas.update(leadA, q.id, { action: 'block' })).action).toBe('block');
      expect(await statusOf(quotas.update(leadA, q.id, { limit: 9 }))).toBe(403);
      expect(await statusOf(quotas.update(leadA, q.id, { action: 'warn' }))).toBe(403);
      expect(await statusOf(quotas.update(leadA, q.id, { is_active: false }))).toBe(403);
      expect(await statusOf(quotas.remove(leadA, q.id))).toBe(403);
      // A quota a lead set, the lead (or another lead of the org) may raise and delete.
      const mine = await add(leadA, { scope: 'org', scope_id: orgA, limit: 5 });
      expect((await quotas.update(leadA2, mine.id, { limit: 50 })).limit).toBe(50);
      await quotas.remove(leadA2, mine.id);
    });

    it('400 names the field: unknown user, org, level or provider; a global scope_id; a fractional count', async () => {
      const bad = [
        { scope: 'user', scope_id: '6b1f0d1e-2c3a-4b5c-8d9e-0f1a2b3c4d5e' },
        { scope: 'user', scope_id: 'not-a-uuid' },
        { scope: 'org', scope_id: '6b1f0d1e-2c3a-4b5c-8d9e-0f1a2b3c4d5e' },
        { scope: 'level', scope_id: 'boss' },
        { scope: 'provider', scope_id: 'nowhere' },
        { scope: 'global', scope_id: orgA },
        { scope: 'org' },
      ] as const;
      for (const dto of bad) {
        const err = await errorOf(add(admin, dto));
        expect([err?.status, Object.keys(err?.details ?? {})]).toEqual([400, ['scope_id']]);
      }
      const err = await errorOf(add(admin, { scope: 'global', type: 'jobs_per_hour', limit: 2.5 }));
      expect([err?.status, Object.keys(err?.details ?? {})]).toEqual([400, ['limit']]);
      expect((await add(admin, { scope: 'global', type: 'cost_daily', limit: 2.5 })).limit).toBe(2.5);
    });

    it('every change is audited', async () => {
      const q = await add(leadA, { scope: 'user', scope_id: rita.id, limit: 4 });
      await quotas.update(leadA, q.id, { limit: 3 });
      await quotas.remove(leadA, q.id);
      const audit = await rows<{ action: string; actor_id: string; org_id: string }>(
        `SELECT action, actor_id, org_id FROM audit_log WHERE target_id = $1 ORDER BY id`,
        [q.id],
      );
      expect(audit).toEqual(
        ['quota.create', 'quota.update', 'quota.delete'].map((action) => ({
          action,
          actor_id: leadA.id,
          org_id: orgA,
        })),
      );
    });
  });

  describe('at submit', () => {
    it('warn: accepted with warnings, a quota_warning event and a WARNING line', async () => {
      const u = await person('lead', orgA);
      const q = await add(admin, { scope: 'user', scope_id: u.id, type: 'jobs_per_hour', limit: 1, action: 'warn' });
      expect((await submit(u)).body.warnings).toBeUndefined();
      const { created, body } = await submit(u);
      expect(created).toBe(true);
      expect(body.warnings).toEqual([{ quota_id: q.id, type: 'jobs_per_hour', limit: 1, used: 2 }]);
      const [event] = await rows<{ data: Record<string, unknown>; user_id: string }>(
        `SELECT data, user_id FROM events WHERE type = 'quota_warning' AND job_id = $1`,
        [body.job_id],
      );
      expect(event).toMatchObject({ user_id: u.id, data: { quota_id: q.id, limit: 1, used: 2, scope: 'user' } });
      const line = await logLine(/^Quota passed \(warn\)/);
      expect(line).toMatchObject({ level: 'WARNING' });
      expect(line.message).toContain(q.id);
    });

    it('require_approval: held for a lead with a reason naming the quota; the requester cannot decide it', async () => {
      const u = await person('researcher', orgA);
      const q = await add(leadA, {
        scope: 'user',
        scope_id: u.id,
        type: 'jobs_per_day',
        limit: 1,
        action: 'require_approval',
      });
      expect((await submit(u)).body.requires_approval).toBe(false);
      const { body } = await submit(u);
      expect(body.requires_approval).toBe(true);
      const [request] = await rows<Record<string, unknown>>(`SELECT * FROM approval_requests WHERE id = $1`, [
        body.approval_id,
      ]);
      expect(request).toMatchObject({ rule_id: null, required_approver_level: 'lead', status: 'pending' });
      expect(request.reason).toContain(q.id);
      expect(request.reason).toContain('jobs_per_day');
      const [entry] = await rows(`SELECT status FROM queue_entries WHERE job_id = $1`, [body.job_id]);
      expect(entry).toEqual({ status: 'blocked' });
      const approvals = services.get(ApprovalsService);
      expect(await statusOf(approvals.approve(u, body.approval_id!))).toBe(403);
      expect(await statusOf(approvals.approve(leadB, body.approval_id!))).toBe(404);
      expect((await approvals.approve(leadA2, body.approval_id!)).status).toBe('approved');
    });

    it('block: 429 quota_exceeded with the details and Retry-After to the rolling reset; nothing is written', async () => {
      const u = await person('lead', orgA);
      await submitAt(u, T0);
      await submitAt(u, T0 + 10 * 60_000);
      const q = await add(admin, { scope: 'user', scope_id: u.id, type: 'jobs_per_hour', limit: 2 });
      const err = await errorOf(submitAt(u, T0 + 20 * 60_000));
      expect(err).toBeInstanceOf(QuotaExceededError);
      expect(err?.code).toBe('quota_exceeded');
      expect(err?.status).toBe(429);
      // The oldest counted submission (T0) leaves the hour at T0 + 1 h: 40 minutes from now.
      expect((err as QuotaExceededError).retryAfterSeconds).toBe(40 * 60);
      expect(err?.details).toEqual({
        quota_id: q.id,
        type: 'jobs_per_hour',
        scope: 'user',
        scope_id: u.id,
        limit: 2,
        used: 2,
        requested: 1,
        resets_at: new Date(T0 + HOUR).toISOString(),
      });
      expect(await rows(`SELECT count(*)::int AS n FROM jobs WHERE user_id = $1`, [u.id])).toEqual([{ n: 2 }]);
      const [notice] = await rows<{ data: Record<string, unknown> }>(
        `SELECT data FROM events WHERE type = 'quota_exceeded' AND user_id = $1`,
        [u.id],
      );
      expect(notice.data).toMatchObject({ quota_id: q.id, used: 2, requested: 1 });
      // Once the oldest leaves the window, there is room again.
      expect((await submitAt(u, T0 + HOUR + 1000)).created).toBe(true);
    });

    it('the 80 % notice of a cost quota goes out once per subject and window', async () => {
      const u = await person('lead', orgA);
      const estimate = (await submitAt(u, T0)).body.cost_estimate;
      // 4.5 estimates: the fourth job takes the day past 80 % (3.6), the fifth past the limit (warn: accepted).
      const q = await add(admin, {
        scope: 'user',
        scope_id: u.id,
        type: 'cost_daily',
        limit: estimate * 4.5,
        action: 'warn',
      });
      const notices = () =>
        rows<{ data: Record<string, unknown> }>(
          `SELECT data FROM events WHERE type = 'quota_threshold' AND user_id = $1`,
          [u.id],
        );
      for (let i = 2; i <= 3; i++) await submitAt(u, T0 + i * 60_000);
      expect(await notices()).toEqual([]);
      await submitAt(u, T0 + 4 * 60_000);
      await submitAt(u, T0 + 5 * 60_000);
      const sent = await notices();
      expect(sent).toHaveLength(1);
      expect(sent[0].data).toMatchObject({
        quota_id: q.id,
        subject_id: u.id,
        window_start: new Date(Date.UTC(2026, 11, 9)).toISOString(),
        resets_at: new Date(Date.UTC(2026, 11, 10)).toISOString(),
      });
      // The next UTC day is a new window: its first pass of 80 % is noticed again.
      for (let i = 0; i < 4; i++) await submitAt(u, T0 + 24 * HOUR + i * 60_000);
      expect(await notices()).toHaveLength(2);
    });

    it('the most restrictive decides: a block quota refuses even when a warn quota would accept', async () => {
      const u = await person('lead', orgA);
      await add(admin, { scope: 'global', type: 'jobs_per_day', limit: 1, action: 'warn' });
      const block = await add(admin, { scope: 'org', scope_id: orgA, type: 'jobs_per_day', limit: 1000 });
      await add(admin, { scope: 'level', scope_id: 'lead', type: 'jobs_per_day', limit: 1, action: 'block' });
      expect((await submitAt(u, T0)).created).toBe(true);
      const err = await errorOf(submitAt(u, T0 + 1000));
      expect(err?.code).toBe('quota_exceeded');
      expect(err?.details?.scope).toBe('level');
      expect(block.id).toBeDefined();
    });
  });

  describe('GET /api/quotas/me', () => {
    it('lists the quotas that apply with used, remaining and when they reset', async () => {
      const u = await person('lead', orgA);
      const estimate = (await submitAt(u, T0)).body.cost_estimate;
      await submitAt(u, T0 + 15 * 60_000);
      const hourly = await add(admin, { scope: 'user', scope_id: u.id, type: 'jobs_per_hour', limit: 5 });
      const daily = await add(leadA, { scope: 'org', scope_id: orgA, type: 'cost_daily', limit: 100, action: 'warn' });
      const monthly = await add(admin, { scope: 'level', scope_id: 'lead', type: 'cost_monthly', limit: 1000 });
      const slots = await add(admin, { scope: 'global', type: 'concurrent_jobs', limit: 3 });
      await add(admin, { scope: 'level', scope_id: 'researcher', type: 'jobs_per_day', limit: 5 }); // not for a lead
      await add(admin, { scope: 'user', scope_id: rita.id, type: 'jobs_per_day', limit: 5 }); // not for u
      clock.set(T0 + 30 * 60_000);
      const mine = await usage.mine(u);
      const byId = new Map(mine.map((m) => [m.quota_id, m]));
      expect(mine).toHaveLength(4);
      expect(byId.get(hourly.id)).toEqual({
        quota_id: hourly.id,
        scope: 'user',
        type: 'jobs_per_hour',
        limit: 5,
        used: 2,
        remaining: 3,
        action: 'block',
        resets_at: new Date(T0 + HOUR).toISOString(),
      });
      const orgToday = await rows<{ s: number }>(
        `SELECT coalesce(sum(cost_estimate), 0)::float8 AS s FROM jobs WHERE org_id = $1 AND created_at >= $2`,
        [orgA, new Date(Date.UTC(2026, 11, 9))],
      );
      expect(byId.get(daily.id)).toMatchObject({ used: orgToday[0].s, resets_at: '2026-12-10T00:00:00.000Z' });
      expect(byId.get(daily.id)!.remaining).toBeCloseTo(100 - orgToday[0].s, 6);
      expect(byId.get(monthly.id)).toMatchObject({
        used: Math.round(estimate * 2 * 1e6) / 1e6,
        resets_at: '2027-01-01T00:00:00.000Z',
      });
      expect(byId.get(slots.id)).toMatchObject({ used: 0, remaining: 3, resets_at: null });
    });
  });

  describe('usage report', () => {
    it("totals equal the sum of the caller's jobs, per level scope, in JSON and CSV", async () => {
      const orgC = await createOrg(services.module, admin, 'quota-usage');
      const leadC = await person('lead', orgC);
      const [r1, r2] = [await person('researcher', orgC), await person('researcher', orgC)];
      const outsider = await person('researcher', orgB);
      // Jobs in June 2025 (no other test writes there): finished with a known cost, or still open.
      const made: { user: string; org: string; cost: number | null; status: string; estimate: number }[] = [];
      const spec = [
        [r1, 'completed', 2.5],
        [r1, 'failed', 1.25],
        [r1, 'pending', null],
        [r2, 'completed', 4],
        [r2, 'cancelled', null],
        [leadC, 'completed', 10],
        [outsider, 'completed', 7.75],
      ] as const;
      for (const [i, [user, status, cost]] of spec.entries()) {
        const at = new Date(Date.UTC(2025, 5, 1 + i, 12));
        const { body } = await submitAt(user, at.getTime());
        await rows(`UPDATE jobs SET status = $2, cost_usd = $3, started_at = $4, completed_at = $5 WHERE job_id = $1`, [
          body.job_id,
          status,
          cost,
          status === 'pending' ? null : at,
          status === 'pending' ? null : new Date(at.getTime() + 600_000),
        ]);
        made.push({ user: user.id, org: user.orgId, cost, status, estimate: body.cost_estimate });
      }
      const range = { from: '2025-06-01', to: '2025-07-01' };
      const expected = (mine: typeof made) => ({
        jobs: mine.length,
        completed: mine.filter((j) => j.status === 'completed').length,
        failed: mine.filter((j) => j.status === 'failed').length,
        cancelled: mine.filter((j) => j.status === 'cancelled').length,
        cost_usd: mine.reduce((n, j) => n + (j.cost ?? 0), 0),
        open_estimate: mine.filter((j) => j.status === 'pending').reduce((n, j) => n + j.estimate, 0),
        // Every job but the pending one ran ten minutes on one GPU (l40s).
        gpu_seconds: mine.filter((j) => j.status !== 'pending').length * 600,
      });
      for (const [caller, mine] of [
        [r1, made.filter((j) => j.user === r1.id)],
        [leadC, made.filter((j) => j.org === orgC)],
        [admin, made],
      ] as const) {
        const report = await usage.report(caller, { ...range, group_by: 'user' });
        const want = expected([...mine]);
        expect(report.totals).toEqual({
          ...want,
          cost_usd: expect.closeTo(want.cost_usd, 6),
          open_estimate: expect.closeTo(want.open_estimate, 6),
        });
        expect(report.rows.reduce((n, r) => n + r.jobs, 0)).toBe(want.jobs);
        expect(new Set(report.rows.map((r) => r.key))).toEqual(new Set(mine.map((j) => j.user)));
        const csv = usage.toCsv(report).trim().split('\r\n');
        expect(csv[0]).toBe('key,label,jobs,completed,failed,cancelled,cost_usd,open_estimate,gpu_seconds');
        const total = csv[csv.length - 1].split(',');
        expect(total.slice(0, 6)).toEqual([
          'total',
          '',
          ...[want.jobs, want.completed, want.failed, want.cancelled].map(String),
        ]);
        expect(Number(total[6])).toBeCloseTo(want.cost_usd, 6);
      }
      const byDay = await usage.report(admin, { ...range, group_by: 'day' });
      expect(byDay.rows.map((r) => r.key)).toEqual(spec.map((_, i) => `2025-06-0${i + 1}`));
      const byOrg = await usage.report(admin, { ...range, group_by: 'org' });
      expect(byOrg.rows.find((r) => r.key === orgC)).toMatchObject({ label: 'quota-usage', jobs: 6 });
      const err = await errorOf(usage.report(admin, { from: 'June', to: '2025-07-01' }));
      expect([err?.status, Object.keys(err?.details ?? {})]).toEqual([400, ['from']]);
    });
  });

  describe('metrics', () => {
    it('exports actual cost by provider and profile, and how full each active quota is', async () => {
      const u = await person('lead', orgA);
      const { body } = await submit(u, { hardware_profile: 'h100-x2' });
      await rows(`UPDATE jobs SET status = 'completed', cost_usd = 12.5 WHERE job_id = $1`, [body.job_id]);
      const q = await add(admin, { scope: 'user', scope_id: u.id, type: 'jobs_per_day', limit: 4 });
      const text = await services.get(MetricsService).render();
      const [known] = await rows<{ s: number }>(
        `SELECT sum(cost_usd)::float8 AS s FROM jobs WHERE provider = 'simulator' AND hardware_profile = 'h100-x2'`,
      );
      expect(text).toContain(`simpletuner_cost_usd_total{provider="simulator",hardware_profile="h100-x2"} ${known.s}`);
      expect(text).toContain(`simpletuner_quota_used_ratio{quota_id="${q.id}",type="jobs_per_day"} 0.25`);
    });
  });
});
