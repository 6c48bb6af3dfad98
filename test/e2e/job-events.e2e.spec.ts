import { makeOrg, makeUser, setRuleActive, submit, type Actor } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/** GET /api/cloud/jobs/:id/events: a job's stored events, with the job's own visibility (PostgreSQL, simulator). */
describe("a job's events", () => {
  let app: TestApp;
  let rita: Actor;
  let vic: Actor;
  let olga: Actor;
  let jobId: string;

  const events = (key: string, id: string, query = '') =>
    http(app.url, 'GET', `/api/cloud/jobs/${id}/events${query}`, { key });

  beforeAll(async () => {
    // Two-second steps seen by a poll every second: the job is seen running at least once before it completes.
    app = await startTestApp({
      env: { SIMULATOR_STEP_SECONDS: '2', SIMPLETUNER_QUEUE_INTERVAL: '1', SIMPLETUNER_JOB_POLL_INTERVAL: '1' },
    });
    const lab = await makeOrg(app, 'lab');
    rita = await makeUser(app, 'rita', 'researcher', lab);
    vic = await makeUser(app, 'vic', 'viewer', lab);
    olga = await makeUser(app, 'olga', 'lead', await makeOrg(app, 'elsewhere'));
    await setRuleActive(app, 'First Job Review', false);
    const submitted = await submit(app, rita.key, { config: {} });
    expect(submitted.status).toBe(201);
    jobId = submitted.body.job_id;
    // Another job's events must not leak into this one's list.
    expect((await submit(app, rita.key, { config: {} })).status).toBe(201);
    for (let i = 0; i < 150; i++) {
      const job = await http(app.url, 'GET', `/api/cloud/jobs/${jobId}`, { key: rita.key });
      if (job.body.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(() => app?.stop());

  it('lists the job’s history oldest first, as the stream sends it, and nothing of other jobs', async () => {
    const res = await events(rita.key, jobId);
    expect(res.status).toBe(200);
    expect(res.body.job_id).toBe(jobId);
    expect(res.body.more).toBe(false);
    const list: Array<{ id: string; type: string; created_at: string; data: Record<string, unknown> }> =
      res.body.events;
    expect(list[0]).toMatchObject({ type: 'job_submitted', data: { type: 'job_submitted', job_id: jobId } });
    const statuses = list.filter((e) => e.type === 'job_status_changed').map((e) => e.data.status);
    expect(statuses.at(-1)).toBe('completed');
    expect(statuses).toContain('running');
    expect(list.every((e) => e.data.job_id === jobId)).toBe(true);
    const ids = list.map((e) => BigInt(e.id));
    expect([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(ids);
    expect(list.every((e) => !Number.isNaN(Date.parse(e.created_at)))).toBe(true);
  });

  it('keeps the newest `limit` events and says older ones exist', async () => {
    const all = (await events(rita.key, jobId)).body.events;
    const res = await events(rita.key, jobId, '?limit=2');
    expect(res.status).toBe(200);
    expect(res.body.more).toBe(true);
    expect(res.body.events).toEqual(all.slice(-2));
  });

  it('shows the job to whoever may see it and answers 404 as the job to anyone else', async () => {
    expect((await events(vic.key, jobId)).status).toBe(200);
    expect((await events(app.adminKey, jobId)).status).toBe(200);
    const hidden = await events(olga.key, jobId);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error).toBe('job_not_found');
    const unknown = await events(rita.key, '00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
  });

  it('refuses a bad limit or id with 400 naming the field', async () => {
    for (const limit of ['0', '1001', 'x']) {
      const res = await events(rita.key, jobId, `?limit=${limit}`);
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.details)).toEqual(['limit']);
    }
    const badId = await events(rita.key, 'not-a-uuid');
    expect(badId.status).toBe(400);
    expect(Object.keys(badId.body.details)).toEqual(['id']);
  });
});
