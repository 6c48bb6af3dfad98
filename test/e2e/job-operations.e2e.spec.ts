import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Actor, CHEAP, EXPENSIVE, makeOrg, makeUser, setRuleActive, submit } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

const INPUTS = {
  ...CHEAP,
  dataloader_config: [{ id: 'portraits', type: 'local', instance_data_dir: '/data/portraits' }],
  lycoris_config: { algo: 'lokr', factor: 16 },
  dataset: { url: 'https://datasets.example.com/portraits.tar.gz' },
  hub_model_id: 'me/portrait-lora',
  max_train_steps: 1500,
};

/** Retry and bulk actions over HTTP: per-id outcomes under each single route's rules. */
describe('retry and bulk actions over HTTP (PostgreSQL)', () => {
  let app: TestApp;
  let db: DataSource;
  let lead: Actor;
  let rita: Actor; // researcher in A
  let rob: Actor; // another researcher in A
  let vera: Actor; // viewer in A
  let vic: Actor; // researcher in B

  const call = (key: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    http(app.url, method, path, { key, body, headers });
  const pending = async (who: Actor, body: Record<string, unknown> = CHEAP): Promise<string> => {
    const res = await submit(app, who.key, body);
    expect(res.status).toBe(201);
    return res.body.job_id as string;
  };
  const cancelled = async (who: Actor, body: Record<string, unknown> = CHEAP): Promise<string> => {
    const id = await pending(who, body);
    expect((await call(who.key, 'POST', `/api/cloud/jobs/${id}/cancel`)).status).toBe(200);
    return id;
  };
  const auditRows = (action: string, ids: string[]) =>
    db.query<{ target_id: string }[]>(`SELECT target_id FROM audit_log WHERE action = $1 AND target_id = ANY($2)`, [
      action,
      ids,
    ]);

  beforeAll(async () => {
    // Nothing dispatches unless a test asks: submitted jobs stay pending.
    app = await startTestApp({
      env: {
        SIMPLETUNER_SECRET_KEY: randomBytes(32).toString('base64'),
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
        SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'false',
      },
    });
    db = app.app.get(DataSource);
    const orgA = await makeOrg(app, 'ops-a');
    const orgB = await makeOrg(app, 'ops-b');
    lead = await makeUser(app, 'ops-lead', 'lead', orgA);
    rita = await makeUser(app, 'ops-rita', 'researcher', orgA);
    rob = await makeUser(app, 'ops-rob', 'researcher', orgA);
    vera = await makeUser(app, 'ops-vera', 'viewer', orgA);
    vic = await makeUser(app, 'ops-vic', 'researcher', orgB);
    await setRuleActive(app, 'First Job Review', false);
  });
  afterAll(async () => {
    await app?.stop();
  });

  describe('POST /api/cloud/jobs/:id/retry', () => {
    it('makes a new job with the same inputs, linked both ways; secrets must be given again', async () => {
      const old = await cancelled(rita, { ...INPUTS, secrets: { hf_token: 'hf_retrysecret123' } });

      const missing = await call(rita.key, 'POST', `/api/cloud/jobs/${old}/retry`, {});
      expect(missing.status).toBe(400);
      expect(missing.body).toMatchObject({ error: 'validation_error', details: { secrets: 'missing hf_token' } });
      expect(missing.body.message).toContain('hf_token');

      const res = await call(rita.key, 'POST', `/api/cloud/jobs/${old}/retry`, {
        secrets: { hf_token: 'hf_retrysecret456' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ retry_of: old, status: 'pending', requires_approval: false });
      const fresh = res.body.job_id as string;
      expect(fresh).not.toBe(old);

      const view = (await call(rita.key, 'GET', `/api/cloud/jobs/${fresh}`)).body;
      const { config, ...inputs } = INPUTS;
      expect(view).toMatchObject({
        ...inputs,
        retry_of: old,
        retried_by: null,
        user_id: rita.id,
        secrets: ['hf_token'],
      });
      expect(view.config).toEqual(config);
      expect((await call(rita.key, 'GET', `/api/cloud/jobs/${old}`)).body).toMatchObject({ retried_by: fresh });
      const [submitted] = await db.query(`SELECT data FROM events WHERE job_id = $1 AND type = 'job_submitted'`, [
        fresh,
      ]);
      expect(submitted.data).toMatchObject({ retry_of: old });
      expect(await auditRows('job.retry', [old])).toHaveLength(1);
      // The secret was sealed again for the new job (the old one's went when it ended).
      expect(await db.query(`SELECT name FROM job_secrets WHERE job_id = $1`, [fresh])).toEqual([{ name: 'hf_token' }]);
    });

    it('is idempotent with the Idempotency-Key header (201, then 200 with the same job)', async () => {
      const old = await cancelled(rita);
      const headers = { 'Idempotency-Key': `retry-${randomUUID()}` };
      const first = await call(rita.key, 'POST', `/api/cloud/jobs/${old}/retry`, {}, headers);
      expect(first.status).toBe(201);
      const again = await call(rita.key, 'POST', `/api/cloud/jobs/${old}/retry`, {}, headers);
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toMatchObject({ job_id: first.body.job_id, idempotent_hit: true, retry_of: old });
    });

    it("a lead's retry of a member's job is the member's, and goes through the approval rules", async () => {
      const old = await cancelled(rita, EXPENSIVE);
      const res = await call(lead.key, 'POST', `/api/cloud/jobs/${old}/retry`);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ requires_approval: true, approval_id: expect.any(String) });
      const view = (await call(lead.key, 'GET', `/api/cloud/jobs/${res.body.job_id}`)).body;
      expect(view).toMatchObject({ user_id: rita.id, retry_of: old, status: 'pending' });
      // The lead who retried it is tied to the request: another approver must decide.
      const approve = await call(lead.key, 'POST', `/api/approvals/requests/${res.body.approval_id}/approve`, {});
      expect(approve.status).toBe(403);
    });

    it('409 while the job is active, 404 for a job the caller cannot see, 403 for a viewer', async () => {
      const active = await pending(rita);
      const busy = await call(rita.key, 'POST', `/api/cloud/jobs/${active}/retry`);
      expect(busy.status).toBe(409);
      expect(busy.body).toMatchObject({ error: 'invalid_job_state', details: { current_state: 'pending' } });
      const old = await cancelled(rita);
      expect((await call(vic.key, 'POST', `/api/cloud/jobs/${old}/retry`)).status).toBe(404);
      expect((await call(rob.key, 'POST', `/api/cloud/jobs/${old}/retry`)).status).toBe(404);
      expect((await call(rita.key, 'POST', `/api/cloud/jobs/${randomUUID()}/retry`)).status).toBe(404);
      const viewer = await call(vera.key, 'POST', `/api/cloud/jobs/${old}/retry`);
      expect(viewer.status).toBe(403);
    });
  });

  describe('POST /api/cloud/jobs/bulk', () => {
    it('cancels what the caller may, answering every other id on its own', async () => {
      const [p1, p2, done, robs, vics] = [
        await pending(rita),
        await pending(rita),
        await cancelled(rita),
        await pending(rob),
        await pending(vic),
      ];
      const nobody = randomUUID();
      const res = await call(rita.key, 'POST', '/api/cloud/jobs/bulk', {
        action: 'cancel',
        job_ids: [p1, done, robs, vics, nobody, p2],
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ succeeded: 2, failed: 4 });
      expect(res.body.results).toEqual([
        { job_id: p1, ok: true, status: 'cancelled' },
        { job_id: done, ok: false, status: 'cancelled', error: expect.objectContaining({ code: 'invalid_job_state' }) },
        { job_id: robs, ok: false, error: expect.objectContaining({ code: 'job_not_found' }) },
        { job_id: vics, ok: false, error: expect.objectContaining({ code: 'job_not_found' }) },
        { job_id: nobody, ok: false, error: expect.objectContaining({ code: 'job_not_found' }) },
        { job_id: p2, ok: true, status: 'cancelled' },
      ]);
      expect((await auditRows('job.cancel', [p1, p2, done, robs, vics])).map((r) => r.target_id).sort()).toEqual(
        [p1, p2].sort(),
      );
      const events = await db.query(
        `SELECT job_id FROM events WHERE type = 'job_status_changed' AND data->>'status' = 'cancelled' AND job_id = ANY($1)`,
        [[p1, p2, robs, vics]],
      );
      expect(events).toHaveLength(2);
      const entries = await db.query(`SELECT status FROM queue_entries WHERE job_id = ANY($1)`, [[p1, p2]]);
      expect(entries.map((e: { status: string }) => e.status)).toEqual(['cancelled', 'cancelled']);

      // A lead acts on its organisation's jobs, never another's; a viewer acts on none.
      const byViewer = await call(vera.key, 'POST', '/api/cloud/jobs/bulk', { action: 'cancel', job_ids: [robs] });
      expect(byViewer.status).toBe(403);
      const byLead = await call(lead.key, 'POST', '/api/cloud/jobs/bulk', { action: 'cancel', job_ids: [robs, vics] });
      expect(byLead.body).toMatchObject({
        succeeded: 1,
        failed: 1,
        results: [
          { job_id: robs, ok: true },
          { job_id: vics, ok: false },
        ],
      });
    });

    it('deletes finished jobs and retries them, each id under its single route', async () => {
      const [done, active, withSecret] = [
        await cancelled(rita),
        await pending(rita),
        await cancelled(rita, { ...CHEAP, secrets: { hf_token: 'hf_bulksecret789' } }),
      ];
      const retried = await call(rita.key, 'POST', '/api/cloud/jobs/bulk', {
        action: 'retry',
        job_ids: [done, active, withSecret],
      });
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ succeeded: 1, failed: 2 });
      const [ok, busy, secret] = retried.body.results;
      expect(ok).toMatchObject({ job_id: done, ok: true, status: 'pending', new_job_id: expect.any(String) });
      expect(busy).toMatchObject({ ok: false, status: 'pending', error: { code: 'invalid_job_state' } });
      expect(secret).toMatchObject({ ok: false, error: { code: 'validation_error' } });
      expect(secret.error.message).toContain('hf_token');

      const deleted = await call(rita.key, 'POST', '/api/cloud/jobs/bulk', {
        action: 'delete',
        job_ids: [done, active, randomUUID()],
      });
      expect(deleted.body).toMatchObject({ succeeded: 1, failed: 2 });
      expect(deleted.body.results[0]).toEqual({ job_id: done, ok: true });
      expect(deleted.body.results[1]).toMatchObject({ ok: false, error: { code: 'invalid_job_state' } });
      expect(deleted.body.results[2]).toMatchObject({ ok: false, error: { code: 'job_not_found' } });
      expect((await call(rita.key, 'GET', `/api/cloud/jobs/${done}`)).status).toBe(404);
      expect(await auditRows('job.delete', [done, active])).toEqual([{ target_id: done }]);
      // The retry stays, its link to the deleted job cleared.
      const retry = await call(rita.key, 'GET', `/api/cloud/jobs/${ok.new_job_id}`);
      expect(retry.body).toMatchObject({ retry_of: null });
    });

    it('400 naming job_ids for 1,001 ids, none, or a repeated one', async () => {
      const many = Array.from({ length: 1001 }, () => randomUUID());
      for (const job_ids of [many, [], [many[0], many[0]]]) {
        const res = await call(rita.key, 'POST', '/api/cloud/jobs/bulk', { action: 'cancel', job_ids });
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body)).toContain('job_ids');
      }
      const bad = await call(rita.key, 'POST', '/api/cloud/jobs/bulk', { action: 'purge', job_ids: [many[0]] });
      expect(bad.status).toBe(400);
    });
  });

  describe('POST /api/approvals/requests/bulk', () => {
    it('decides each request as its single route, refusing the caller its own', async () => {
      const held = async (who: Actor) => {
        const res = await submit(app, who.key, EXPENSIVE);
        expect(res.body.requires_approval).toBe(true);
        return res.body.approval_id as string;
      };
      const [r1, r2, own, foreign] = [await held(rita), await held(rob), await held(lead), await held(vic)];
      const nobody = randomUUID();
      const res = await call(lead.key, 'POST', '/api/approvals/requests/bulk', {
        action: 'approve',
        ids: [r1, own, foreign, nobody],
        notes: 'morning backlog',
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ succeeded: 1, failed: 3 });
      expect(res.body.results).toEqual([
        { id: r1, ok: true, status: 'approved' },
        { id: own, ok: false, error: expect.objectContaining({ code: 'permission_denied' }) },
        { id: foreign, ok: false, error: expect.objectContaining({ code: 'not_found' }) },
        { id: nobody, ok: false, error: expect.objectContaining({ code: 'not_found' }) },
      ]);
      expect(res.body.results[1].error.message).toContain('own');
      expect(await auditRows('approval.approve', [r1, own, foreign])).toEqual([{ target_id: r1 }]);

      const noReason = await call(lead.key, 'POST', '/api/approvals/requests/bulk', { action: 'reject', ids: [r2] });
      expect(noReason.status).toBe(400);
      expect(JSON.stringify(noReason.body)).toContain('reason');

      const rejected = await call(lead.key, 'POST', '/api/approvals/requests/bulk', {
        action: 'reject',
        ids: [r2, r1],
        reason: 'too big for now',
      });
      expect(rejected.body).toMatchObject({ succeeded: 1, failed: 1 });
      expect(rejected.body.results[0]).toEqual({ id: r2, ok: true, status: 'rejected' });
      expect(rejected.body.results[1]).toMatchObject({ ok: false, status: 'approved', error: { code: 'conflict' } });
      const events = await db.query(
        `SELECT type FROM events WHERE type = 'approval_rejected' AND data->>'approval_id' = $1`,
        [r2],
      );
      expect(events).toHaveLength(1);

      const tooMany = Array.from({ length: 101 }, () => randomUUID());
      const over = await call(lead.key, 'POST', '/api/approvals/requests/bulk', { action: 'approve', ids: tooMany });
      expect(over.status).toBe(400);
      expect(JSON.stringify(over.body)).toContain('ids');
    });
  });
});
