import { Client } from 'pg';
import { generateApiKey } from '../../src/auth/api-key.util';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const JOBS = 6;

/**
 * A `concurrent_jobs` quota of 1 for one user, above a per-user limit of 3, on two instances claiming every second
 * from one PostgreSQL: while six of that user's simulator jobs run to the end, a sample of the queue every 100 ms
 * never finds more than one of them dispatching or running.
 */
describe('concurrent_jobs quota at dispatch (PostgreSQL, two instances, simulator)', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let sampler: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = {
      SIMPLETUNER_ADMIN_API_KEY: generateApiKey(),
      SIMPLETUNER_QUEUE_INTERVAL: '1',
      SIMPLETUNER_JOB_POLL_INTERVAL: '1',
      SIMULATOR_STEP_SECONDS: '1',
    };
    [a, b] = await Promise.all([startTestApp({ database, env }), startTestApp({ database, env })]);
    sampler = new Client({ connectionString: database.url });
    await sampler.connect();
  });
  afterAll(async () => {
    await sampler?.end();
    await a?.stop();
    await b?.stop();
    await database?.drop();
  });

  it('never has more than one of the user’s jobs dispatching or running, and runs all six', async () => {
    const admin = a.adminKey;
    const org = await http(a.url, 'POST', '/api/orgs', { key: admin, body: { name: 'one-at-a-time' } });
    // A lead: the default first-job rule exempts leads, so every submit goes straight to the queue.
    const user = await http(a.url, 'POST', '/api/users', {
      key: admin,
      body: { username: 'solo', level: 'lead', org_id: org.body.id },
    });
    const key = (await http(a.url, 'POST', `/api/users/${user.body.id}/api-keys`, { key: admin, body: {} })).body.key;
    const limits = await http(a.url, 'PUT', '/api/queue/concurrency', {
      key: admin,
      body: { max_concurrent: 10, user_max_concurrent: 3, org_max_concurrent: 10 },
    });
    expect(limits.status).toBe(200);
    const quota = await http(a.url, 'POST', '/api/quotas', {
      key: admin,
      body: { scope: 'user', scope_id: user.body.id, type: 'concurrent_jobs', limit: 1, action: 'block' },
    });
    expect(quota.status).toBe(201);

    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const submit = await http(i % 2 ? b.url : a.url, 'POST', '/api/cloud/jobs/submit', {
        key,
        body: { config_name: `solo-${i}`, provider: 'simulator', config: {} },
      });
      expect(submit.status).toBe(201);
      jobIds.push(submit.body.job_id);
    }

    let most = 0;
    let samples = 0;
    let sawQuotaReason = false;
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { rows } = await sampler.query<{ status: string; blocked_reason: string | null }>(
        `SELECT status, blocked_reason FROM queue_entries WHERE user_id = $1`,
        [user.body.id],
      );
      samples++;
      most = Math.max(most, rows.filter((r) => r.status === 'dispatching' || r.status === 'running').length);
      const jobs = await sampler.query<{ status: string }>(`SELECT status FROM jobs WHERE job_id = ANY($1)`, [jobIds]);
      if (jobs.rows.every((j) => j.status === 'completed')) break;
      if (Date.now() > deadline) throw new Error(`not all done: ${jobs.rows.map((j) => j.status).join(', ')}`);
      if (!sawQuotaReason) {
        const waiting = await http(a.url, 'GET', `/api/queue/position/${jobIds[JOBS - 1]}`, { key });
        sawQuotaReason = waiting.body.blocked_reason === 'quota_limit';
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(most).toBe(1);
    expect(samples).toBeGreaterThan(20);
    // The last job waited for the quota, and the position route said so.
    expect(sawQuotaReason).toBe(true);
  }, 120_000);
});
