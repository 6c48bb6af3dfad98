import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { ApprovalsService } from '../../src/approvals';
import type { AuthenticatedUser } from '../../src/auth';
import { JobsService } from '../../src/jobs/jobs.service';
import { SubmitPipeline } from '../../src/jobs/pipeline/submit.pipeline';
import { EXPENSIVE } from '../support/approval-fixtures';
import { logOutput } from '../support/test-logs';
import { actorFor, asRequest, createActor, createOrg, setRuleActive, statusOf } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';

const HOUR = 3600_000;

/**
 * The expiry run against the app's services and a real database, at set times. Submits, decisions and cancels go
 * through the services their routes call, each under a correlation id of its own as a request would be.
 */
describe('approval expiry (PostgreSQL)', () => {
  let services: ServiceModule;
  let db: DataSource;
  let approvals: ApprovalsService;
  let admin: AuthenticatedUser;
  let rita: AuthenticatedUser;
  let logFile: string;

  const count = async (sql: string, params: unknown[] = []) => (await db.query(sql, params))[0].n as number;
  const logLines = () =>
    fs.existsSync(logFile)
      ? fs
          .readFileSync(logFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      : [];
  /** The file sink may write asynchronously: wait briefly for a line to appear. */
  async function waitForLine(message: string, match: (line: any) => boolean = () => true): Promise<any[]> {
    for (let i = 0; i < 40; i++) {
      const hits = logLines().filter((l) => l.message === message && match(l));
      if (hits.length > 0) return hits;
      await new Promise((r) => setTimeout(r, 50));
    }
    return [];
  }

  type Submitted = { job_id: string; approval_id: string; correlation_id: string };
  async function submitExpensive(n: number): Promise<Submitted[]> {
    const pipeline = services.get(SubmitPipeline);
    const out: Submitted[] = [];
    for (let i = 0; i < n; i += 10) {
      const chunk = await Promise.all(
        Array.from({ length: Math.min(10, n - i) }, () =>
          asRequest(() => pipeline.submit(rita, { config_name: 'lora-test', ...EXPENSIVE })),
        ),
      );
      for (const { result, correlationId } of chunk) {
        if (!result.created || !result.body.requires_approval) throw new Error(`submit: ${JSON.stringify(result)}`);
        out.push({ ...result.body, approval_id: result.body.approval_id!, correlation_id: correlationId });
      }
    }
    return out;
  }

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-approvals-log-'));
    logFile = path.join(dir, 'cloud.log');
    services = await startServiceModule({
      env: { SIMPLETUNER_LOG_LEVEL: 'INFO', SIMPLETUNER_LOG_FILE: logFile },
    });
    db = services.db;
    approvals = services.get(ApprovalsService);
    admin = await actorFor(services.module, services.adminKey);
    const org = await createOrg(services.module, admin, 'expiry-lab');
    rita = await createActor(services.module, admin, 'rita', 'researcher', org);
    await setRuleActive(services.module, admin, 'First Job Review', false);
  });
  afterAll(async () => {
    await services?.close();
    fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
  });

  it('one run expires all 250 due requests, cancels 250 jobs, fails 250 entries, emits 250 events, logs once', async () => {
    const started = Date.now();
    const jobs = await submitExpensive(250);
    const submitMs = Date.now() - started;
    const ids = jobs.map((j) => j.job_id);

    // Before the deadline nothing happens and nothing is logged.
    expect(await approvals.expireDue(new Date(Date.now() + 23 * HOUR))).toEqual({ expired: 0 });
    expect(logLines().some((l) => /^Expired \d+ approval requests$/.test(l.message))).toBe(false);

    const t0 = Date.now();
    const result = await approvals.expireDue(new Date(Date.now() + 25 * HOUR));
    const expireMs = Date.now() - t0;
    expect(result).toEqual({ expired: 250 });

    expect(
      await count(`SELECT count(*)::int AS n FROM approval_requests WHERE status = 'expired' AND job_id = ANY($1)`, [
        ids,
      ]),
    ).toBe(250);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM jobs WHERE job_id = ANY($1) AND status = 'cancelled'
           AND error_message = 'Approval request expired after 24 hours'`,
        [ids],
      ),
    ).toBe(250);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM queue_entries WHERE job_id = ANY($1) AND status = 'failed'
           AND last_error = 'Approval request expired (auto-rejected after timeout)'`,
        [ids],
      ),
    ).toBe(250);
    const events: { job_id: string; data: any }[] = await db.query(
      `SELECT job_id, data FROM events WHERE type = 'approval_expired' AND job_id = ANY($1)`,
      [ids],
    );
    expect(events).toHaveLength(250);
    expect(new Set(events.map((e) => e.job_id)).size).toBe(250);
    expect(events[0].data).toMatchObject({
      type: 'approval_expired',
      job_id: events[0].job_id,
      message: 'Approval request expired and job was auto-rejected',
    });
    // Each job's status change is an event too.
    expect(
      await count(
        `SELECT count(*)::int AS n FROM events WHERE type = 'job_status_changed' AND job_id = ANY($1)
           AND data->>'status' = 'cancelled'`,
        [ids],
      ),
    ).toBe(250);

    const lines = await waitForLine('Expired 250 approval requests');
    expect(lines).toHaveLength(1);
    expect(lines[0].level).toBe('INFO');

    // A second run finds nothing left.
    expect(await approvals.expireDue(new Date(Date.now() + 25 * HOUR))).toEqual({ expired: 0 });

    logOutput('[measure]', `[approvals-expiry] submit 250: ${submitMs} ms; expire 250: ${expireMs} ms`);
  });

  it('an expiry run racing approvals, rejections and job cancels: each request ends exactly one way, no errors', async () => {
    const lead = await createActor(services.module, admin, 'lena', 'lead', rita.orgId);
    const jobs = await submitExpensive(30);
    const due = new Date(Date.now() + 25 * HOUR);
    // What POST /api/approvals/requests/:id/approve and /reject and POST /api/cloud/jobs/:id/cancel call.
    const decisions = jobs.map((j, i) => {
      if (i % 3 === 0) return statusOf(approvals.approve(lead, j.approval_id));
      if (i % 3 === 1) return statusOf(approvals.reject(lead, j.approval_id, 'no'));
      return statusOf(services.get(JobsService).cancel(rita, j.job_id));
    });
    // Small batches, started once the first decisions are in flight, so that sweep and decisions interleave.
    const sweeping = new Promise<{ expired: number }>((resolve, reject) =>
      setTimeout(() => {
        approvals.expireDue(due, 3).then(resolve, reject);
      }, 30),
    );
    const [sweep, ...responses] = await Promise.all([sweeping, ...decisions]);
    // A decision either won (200) or found the request already expired (409); nothing failed.
    for (const status of responses) expect([200, 409]).toContain(status);

    const rows: { status: string; job_status: string; entry: string; error_message: string | null }[] = await db.query(
      `SELECT r.status, j.status AS job_status, e.status AS entry, j.error_message
         FROM approval_requests r JOIN jobs j ON j.job_id = r.job_id JOIN queue_entries e ON e.job_id = r.job_id
        WHERE r.job_id = ANY($1)`,
      [jobs.map((j) => j.job_id)],
    );
    const seen = rows.map((r) => `${r.status}/${r.job_status}/${r.entry}`);
    // An approved job joins the queue; in a serving app the unblock's wake-up may dispatch it at once.
    const allowed =
      /^(approved\/(pending|queued|running)\/(pending|dispatching|running)|rejected\/cancelled\/cancelled|cancelled\/cancelled\/cancelled|expired\/cancelled\/failed)$/;
    for (const s of seen) expect(s).toMatch(allowed);
    logOutput(
      '[approvals-race]',
      JSON.stringify(seen.reduce((a: Record<string, number>, s) => ({ ...a, [s]: (a[s] ?? 0) + 1 }), {})),
    );
    expect(seen.filter((s) => s.startsWith('expired/'))).toHaveLength(sweep.expired);
    const expiredEvents = await count(
      `SELECT count(*)::int AS n FROM events WHERE type = 'approval_expired' AND job_id = ANY($1)`,
      [jobs.map((j) => j.job_id)],
    );
    expect(expiredEvents).toBe(sweep.expired);
    // Approved jobs were not expired afterwards: the sweep only touches `pending` requests.
    expect(seen.filter((s) => s.startsWith('approved/'))).toHaveLength(
      responses.filter((status, i) => i % 3 === 0 && status === 200).length,
    );
  });

  it('when cancelling the job fails, its request stays pending (same transaction); the others expire', async () => {
    const [doomed, fine] = await submitExpensive(2);
    // A test-only trigger makes the job's UPDATE fail inside the expiry transaction, as a crash there would.
    await db.query(`
      CREATE OR REPLACE FUNCTION test_fail_job_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'simulated failure while cancelling job %', OLD.job_id; END $$`);
    await db.query(`
      CREATE TRIGGER test_fail_job_update BEFORE UPDATE ON jobs FOR EACH ROW
      WHEN (OLD.job_id = '${doomed.job_id}'::uuid) EXECUTE FUNCTION test_fail_job_update()`);
    try {
      const result = await approvals.expireDue(new Date(Date.now() + 25 * HOUR));
      expect(result).toEqual({ expired: 1 });

      const req = (await db.query(`SELECT status FROM approval_requests WHERE id = $1`, [doomed.approval_id]))[0];
      expect(req.status).toBe('pending');
      expect((await db.query(`SELECT status FROM jobs WHERE job_id = $1`, [doomed.job_id]))[0].status).toBe('pending');
      expect((await db.query(`SELECT status FROM queue_entries WHERE job_id = $1`, [doomed.job_id]))[0].status).toBe(
        'blocked',
      );
      expect(
        await count(`SELECT count(*)::int AS n FROM events WHERE job_id = $1 AND type = 'approval_expired'`, [
          doomed.job_id,
        ]),
      ).toBe(0);

      expect((await db.query(`SELECT status FROM approval_requests WHERE id = $1`, [fine.approval_id]))[0].status).toBe(
        'expired',
      );
      expect((await db.query(`SELECT status FROM jobs WHERE job_id = $1`, [fine.job_id]))[0].status).toBe('cancelled');
      const failures = await waitForLine('Failed to expire approval request');
      expect(failures[0]).toMatchObject({
        level: 'ERROR',
        extra: { approval_id: doomed.approval_id, job_id: doomed.job_id },
      });
    } finally {
      await db.query(`DROP TRIGGER test_fail_job_update ON jobs`);
    }
    // Once the job can be updated again, the next run expires it.
    expect(await approvals.expireDue(new Date(Date.now() + 25 * HOUR))).toEqual({ expired: 1 });
    expect((await db.query(`SELECT status FROM jobs WHERE job_id = $1`, [doomed.job_id]))[0].status).toBe('cancelled');
    // The expiry's lines about the job carry the id of the request that submitted it.
    // Wait for this job's line: the earlier test's 250 cancellations already match the message alone.
    const changed = await waitForLine(
      'Job status changed: pending -> cancelled',
      (l) => l.extra.job_id === doomed.job_id,
    );
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      correlation_id: doomed.correlation_id,
      extra: { step: 'approval_expiry', approval_id: doomed.approval_id },
    });
  });
});
