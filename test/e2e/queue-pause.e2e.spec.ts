import { Client } from 'pg';
import { generateApiKey } from '../../src/auth/api-key.util';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const CREATES = /^\/v1\/predictions$|^\/predictions$/;

/**
 * Pausing dispatch over HTTP with two instances on one PostgreSQL against the fake Replicate server: the pause is
 * stored, so neither instance dispatches while it holds, nor after one restarts; resume dispatches in the next tick;
 * a running job goes on. Also the routes' documented statuses, and running a background task now.
 */
describe('dispatch pause and resume (two instances, PostgreSQL, fake Replicate)', () => {
  let database: TestDatabase;
  let fake: FakeReplicate;
  let db: Client;
  const apps: TestApp[] = [];
  let admin: string;
  let lead: string;
  let researcher: string;
  let orgId: string;
  let env: Record<string, string>;

  const submit = (key: string, app = apps[0], extra: Record<string, unknown> = {}) =>
    http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key,
      body: { config_name: 'cfg', config: { steps: 10 }, provider: 'replicate', ...extra },
    });
  const tickAll = () => Promise.all(apps.map((a) => http(a.url, 'POST', '/api/queue/process', { key: admin })));
  const creates = () => fake.count('POST', CREATES);

  beforeAll(async () => {
    fake = await startFakeReplicate();
    database = await createTestDatabase();
    admin = generateApiKey();
    env = {
      SIMPLETUNER_ADMIN_API_KEY: admin,
      REPLICATE_API_TOKEN: fake.token,
      REPLICATE_API_BASE: fake.url,
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'false',
      SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
    };
    for (let i = 0; i < 2; i++) apps.push(await startTestApp({ database, env }));
    db = new Client({ connectionString: database.url });
    await db.connect();
    const a = apps[0].url;
    await http(a, 'PUT', '/api/queue/concurrency', {
      key: admin,
      body: { max_concurrent: 50, user_max_concurrent: 50, org_max_concurrent: 50 },
    });
    orgId = (await http(a, 'POST', '/api/orgs', { key: admin, body: { name: 'pause-org' } })).body.id;
    const keyOf = async (username: string, level: string) => {
      const user = await http(a, 'POST', '/api/users', { key: admin, body: { username, level, org_id: orgId } });
      return (await http(a, 'POST', `/api/users/${user.body.id}/api-keys`, { key: admin, body: { name: 'k' } })).body
        .key as string;
    };
    lead = await keyOf('pause-lead', 'lead');
    researcher = await keyOf('pause-researcher', 'researcher');
  });
  afterAll(async () => {
    await db?.end();
    for (const a of apps) await a.stop();
    await database?.drop();
    await fake?.stop();
  });

  it('answers each documented status of the pause routes', async () => {
    const a = apps[0].url;
    const pause = (key: string, body: unknown) => http(a, 'POST', '/api/queue/pause', { key, body });
    expect((await pause(admin, { scope: 'global' })).status).toBe(400); // no reason
    const noId = await pause(admin, { scope: 'provider', reason: 'x' });
    expect(noId.status).toBe(400);
    expect(noId.body.details).toHaveProperty('scope_id');
    expect((await pause(admin, { scope: 'provider', scope_id: 'nope', reason: 'x' })).status).toBe(400);
    expect((await pause(lead, { scope: 'global', reason: 'x' })).status).toBe(403);
    expect((await pause(researcher, { scope: 'org', scope_id: orgId, reason: 'x' })).status).toBe(403);

    const own = await pause(lead, { scope: 'org', scope_id: orgId, reason: 'org maintenance' });
    expect(own.status).toBe(201);
    expect(own.body).toMatchObject({ scope: 'org', scope_id: orgId, reason: 'org maintenance' });
    expect((await pause(lead, { scope: 'org', scope_id: orgId, reason: 'again' })).body.reason).toBe('org maintenance');
    expect((await pause(lead, { scope: 'org', scope_id: orgId, reason: 'again' })).status).toBe(200);
    const seen = await http(a, 'GET', '/api/queue/pauses', { key: researcher });
    expect(seen.status).toBe(200);
    expect(seen.body.pauses).toEqual([expect.objectContaining({ scope: 'org', scope_id: orgId })]);
    const resumed = await http(a, 'POST', '/api/queue/resume', { key: lead, body: { scope: 'org', scope_id: orgId } });
    expect(resumed.status).toBe(200);
    const again = await http(a, 'POST', '/api/queue/resume', { key: lead, body: { scope: 'org', scope_id: orgId } });
    expect(again.status).toBe(404);

    const { rows } = await db.query(
      `SELECT type, data FROM events WHERE type IN ('queue_paused', 'queue_resumed') ORDER BY id`,
    );
    expect(rows.map((r) => r.type)).toEqual(['queue_paused', 'queue_resumed']);
    expect(rows[0].data).toMatchObject({ scope: 'org', scope_id: orgId, reason: 'org maintenance' });
    expect(rows[0].data.paused_by).toEqual(expect.any(String));
    const audit = await db.query(`SELECT action FROM audit_log WHERE action LIKE 'queue.%' ORDER BY at, id`);
    expect(audit.rows.map((r) => r.action)).toEqual(['queue.pause', 'queue.resume']);
  });

  it('holds on both instances and across a restart; resume dispatches in the next tick; running jobs go on', async () => {
    const running = await submit(lead);
    await tickAll();
    expect(creates()).toBe(1);
    const before = creates();

    expect(
      (await http(apps[0].url, 'POST', '/api/queue/pause', { key: admin, body: { scope: 'global', reason: 'mw' } }))
        .status,
    ).toBe(201);
    const waiting: string[] = [];
    for (let i = 0; i < 4; i++) waiting.push((await submit(lead, apps[i % 2])).body.job_id);
    await tickAll();
    await tickAll();
    expect(creates()).toBe(before);
    const position = await http(apps[1].url, 'GET', `/api/queue/position/${waiting[0]}`, { key: lead });
    expect(position.body).toMatchObject({ status: 'pending', blocked_reason: 'paused' });

    // The running job finishes while paused (a poll run now reports it).
    const prediction = [...fake.predictions.values()].find((p) => p.input.job_id === running.body.job_id)!;
    await fake.setStatus(prediction.id, 'succeeded');
    const poll = await http(apps[1].url, 'POST', '/api/cloud/background-tasks/job_status_polling/run', { key: admin });
    expect(poll.status).toBe(200);
    expect(poll.body).toMatchObject({ task: 'job_status_polling', outcome: 'success' });
    const done = await http(apps[0].url, 'GET', `/api/cloud/jobs/${running.body.job_id}`, { key: lead });
    expect(done.body.status).toBe('completed');

    // A restarted instance reads the pause from the database.
    await apps[1].stop();
    apps[1] = await startTestApp({ database, env });
    await tickAll();
    expect(creates()).toBe(before);

    const resumed = await http(apps[1].url, 'POST', '/api/queue/resume', { key: admin, body: { scope: 'global' } });
    expect(resumed.status).toBe(200);
    const tick = await http(apps[0].url, 'POST', '/api/queue/process', { key: admin });
    expect(tick.body.dispatched).toBe(4);
    expect(creates()).toBe(before + 4);
  });

  it('validates start_after and max_wait_seconds at submit and shows them on the job', async () => {
    const far = new Date(Date.now() + 31 * 86_400_000).toISOString();
    const tooFar = await submit(lead, apps[0], { start_after: far });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body.details).toHaveProperty('start_after');
    expect((await submit(lead, apps[0], { start_after: 'tomorrow' })).status).toBe(400);
    expect((await submit(lead, apps[0], { max_wait_seconds: 0 })).status).toBe(400);
    expect((await submit(lead, apps[0], { max_wait_seconds: 2_592_001 })).status).toBe(400);

    const at = new Date(Date.now() + 3600_000).toISOString();
    const job = await submit(lead, apps[0], { start_after: at, max_wait_seconds: 7200 });
    expect(job.status).toBe(201);
    const view = await http(apps[0].url, 'GET', `/api/cloud/jobs/${job.body.job_id}`, { key: lead });
    expect(view.body).toMatchObject({ start_after: at, max_wait_seconds: 7200, status: 'pending' });
    const position = await http(apps[0].url, 'GET', `/api/queue/position/${job.body.job_id}`, { key: lead });
    expect(position.body.blocked_reason).toBe('scheduled');
    const before = creates();
    await tickAll();
    expect(creates()).toBe(before);
  });

  it('runs a background task now: 404 for an unknown name, 409 while it runs elsewhere', async () => {
    const a = apps[0].url;
    expect((await http(a, 'POST', '/api/cloud/background-tasks/no_such_task/run', { key: admin })).status).toBe(404);
    expect((await http(a, 'POST', '/api/cloud/background-tasks/job_retention/run', { key: lead })).status).toBe(403);
    // Another instance's run of the task is marked on its lease.
    await db.query(
      `INSERT INTO task_leases (task, last_run_at, holder, running_since, running_holder)
       VALUES ('job_retention', now(), 'elsewhere', now(), 'elsewhere')
       ON CONFLICT (task) DO UPDATE SET running_since = now(), running_holder = 'elsewhere'`,
    );
    const busy = await http(a, 'POST', '/api/cloud/background-tasks/job_retention/run', { key: admin });
    expect(busy.status).toBe(409);
    await db.query(`UPDATE task_leases SET running_since = NULL, running_holder = NULL WHERE task = 'job_retention'`);
    const run = await http(a, 'POST', '/api/cloud/background-tasks/job_retention/run', { key: admin });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ task: 'job_retention', outcome: 'success', summary: { days: 90 } });
    const lease = await db.query(`SELECT running_since FROM task_leases WHERE task = 'job_retention'`);
    expect(lease.rows[0].running_since).toBeNull();
  });
});
