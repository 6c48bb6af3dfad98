import { DataSource } from 'typeorm';
import { generateApiKey } from '../../src/auth/api-key.util';
import { JobTransitionService } from '../../src/jobs/job-transition.service';
import { QueueService } from '../../src/queue/queue.service';
import { FakeReplicate, startFakeReplicate } from '../support/fake-replicate';
import { http } from '../support/http';
import { sampleSlots, SlotSample } from '../support/queue-fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const LIMITS = { max_concurrent: 40, user_max_concurrent: 3, org_max_concurrent: 12 };
const USERS = 20;
const ORGS = 4;
const JOBS = 500;

/**
 * Three app instances on one PostgreSQL, 500 jobs from 20 users submitted over HTTP to all
 * three, the three instances ticking at the same time against the fake Replicate server. Every job gets exactly
 * one prediction, and a sampler reading the database all along never sees a limit exceeded.
 */
describe('queue with three instances on one database (PostgreSQL, fake Replicate)', () => {
  let database: TestDatabase;
  let fake: FakeReplicate;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    fake = await startFakeReplicate();
    database = await createTestDatabase();
    const env = {
      SIMPLETUNER_ADMIN_API_KEY: generateApiKey(),
      REPLICATE_API_TOKEN: fake.token,
      REPLICATE_API_BASE: fake.url,
      // 500 creates: Replicate's own budget (600 a minute, shared) would spread them over a minute. That budget has
      // its own test (replicate-budget.e2e.spec.ts); this one is about limits and exactly-once.
      SIMPLETUNER_REPLICATE_CREATES_PER_MINUTE: '100000',
      // The test drives ticks itself, on all three instances at once.
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'false',
      SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
      DB_POOL_SIZE: '5',
    };
    for (let i = 0; i < 3; i++) apps.push(await startTestApp({ database, env }));
  });
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await database?.drop();
    await fake?.stop();
  });

  it('creates exactly one prediction per job and never exceeds a limit', async () => {
    const [a] = apps;
    const admin = a.adminKey;
    expect((await http(a.url, 'PUT', '/api/queue/concurrency', { key: admin, body: LIMITS })).status).toBe(200);
    const keys: string[] = [];
    for (let o = 0; o < ORGS; o++) {
      const org = await http(a.url, 'POST', '/api/orgs', { key: admin, body: { name: `org-${o}` } });
      for (let u = 0; u < USERS / ORGS; u++) {
        const user = await http(a.url, 'POST', '/api/users', {
          key: admin,
          body: { username: `user-${o}-${u}`, level: 'lead', org_id: org.body.id },
        });
        const key = await http(a.url, 'POST', `/api/users/${user.body.id}/api-keys`, {
          key: admin,
          body: { name: 'k' },
        });
        keys.push(key.body.key);
      }
    }

    // Submissions round-robin over the three instances, 20 at a time.
    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, k) =>
          http(apps[(i + k) % 3].url, 'POST', '/api/cloud/jobs/submit', {
            key: keys[(i + k) % USERS],
            body: { config_name: `cfg-${i + k}`, config: { steps: 10 }, provider: 'replicate' },
          }),
        ),
      );
      for (const r of batch) {
        expect(r.status).toBe(201);
        expect(r.body.requires_approval).toBe(false);
        jobIds.push(r.body.job_id);
      }
    }

    const db = a.app.get(DataSource);
    const peak: SlotSample = { global: 0, maxUser: 0, maxOrg: 0 };
    let sampling = true;
    let samples = 0;
    const sampler = (async () => {
      while (sampling) {
        const s = await sampleSlots(db);
        samples++;
        peak.global = Math.max(peak.global, s.global);
        peak.maxUser = Math.max(peak.maxUser, s.maxUser);
        peak.maxOrg = Math.max(peak.maxOrg, s.maxOrg);
      }
    })();

    try {
      for (let round = 0; round < 100; round++) {
        await Promise.all(apps.map((x) => x.app.get(QueueService).processTick(new Date())));
        // Running jobs finish (as a poll or a webhook would report), each through a different instance.
        const running: { job_id: string }[] = await db.query(
          `SELECT job_id FROM queue_entries WHERE status = 'running'`,
        );
        await Promise.all(
          running.map(({ job_id }, n) =>
            apps[n % 3].app.get(JobTransitionService).transition(job_id, 'completed', { source: 'test.poll' }),
          ),
        );
        const [{ left }] = await db.query(`SELECT count(*)::int AS left FROM jobs WHERE status <> 'completed'`);
        if (left === 0) break;
      }
    } finally {
      sampling = false;
      await sampler;
    }

    const [{ completed }] = await db.query(`SELECT count(*)::int AS completed FROM jobs WHERE status = 'completed'`);
    expect(completed).toBe(JOBS);
    const creates = new Map<string, number>();
    for (const p of fake.predictions.values()) {
      const id = String(p.input.job_id);
      creates.set(id, (creates.get(id) ?? 0) + 1);
    }
    expect(fake.count('POST', /^\/v1\/predictions$|^\/predictions$/)).toBe(JOBS);
    expect(creates.size).toBe(JOBS);
    for (const id of jobIds) expect(creates.get(id)).toBe(1);
    expect(samples).toBeGreaterThan(20);
    expect(peak.global).toBeLessThanOrEqual(LIMITS.max_concurrent);
    expect(peak.maxUser).toBeLessThanOrEqual(LIMITS.user_max_concurrent);
    expect(peak.maxOrg).toBeLessThanOrEqual(LIMITS.org_max_concurrent);
    // The limits were reached, so "never exceeded" means something.
    expect(peak.global).toBe(LIMITS.max_concurrent);
  }, 120_000);
});
