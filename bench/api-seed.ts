/** bench:api's data: 10,000 jobs across 100 users in 10 orgs, one in ten still waiting in the queue. */
import type { DataSource } from 'typeorm';

export const JOBS = 10_000;
export const USERS = 100;
const ORGS = 10;

export interface BenchUser {
  /** An API key of bench-user-0, a researcher with JOBS / USERS jobs of its own. */
  key: string;
  /** One of that user's pending jobs, for GET /api/queue/position/:id. */
  pendingJobId: string;
  jobs: number;
  pendingEntries: number;
}

/**
 * Seeds through the app's own DataSource (on PGlite it is the only connection there is). Job i belongs to user
 * i % 100; its status comes from another digit, (i / 100) % 10, so that every user has every status: 1 in 10
 * pending (with a pending queue entry), 1 failed, 1 cancelled, 7 completed in about 30 minutes (their history keeps
 * the cost estimate of a new job far under the default approval rule's $50). Created over the last 30 days, oldest
 * first. Every user has jobs before, so the "first job" rule does not hold a submission either: with these two
 * default rules, approvals are off for the bench user. Tables are analysed afterwards, as autovacuum would.
 */
export async function seedApiBench(
  db: DataSource,
  key: string,
  stored: { hash: string; prefix: string },
): Promise<BenchUser> {
  await db.query(`INSERT INTO orgs (name) SELECT 'bench-org-' || o FROM generate_series(0, ${ORGS - 1}) o`);
  await db.query(
    `INSERT INTO users (username, level, org_id)
     SELECT 'bench-user-' || u, 'researcher', (SELECT id FROM orgs WHERE name = 'bench-org-' || (u % ${ORGS}))
       FROM generate_series(0, ${USERS - 1}) u`,
  );
  await db.query(
    `WITH u AS (SELECT id, org_id, substr(username, 12)::int AS rn FROM users WHERE username LIKE 'bench-user-%'),
          s AS (SELECT i, (ARRAY['pending','failed','cancelled','completed','completed','completed','completed',
                                 'completed','completed','completed'])[(i / ${USERS}) % 10 + 1] AS status,
                       now() - make_interval(secs => 30 * 86400 * (${JOBS} - i)::float8 / ${JOBS}) AS t
                  FROM generate_series(1, ${JOBS}) i)
     INSERT INTO jobs (user_id, org_id, provider, external_id, status, config_name, config, hardware_profile, priority,
                       correlation_id, cost_estimate, cost_usd, created_at, queued_at, started_at, completed_at,
                       updated_at)
     SELECT u.id, u.org_id, 'simulator', CASE WHEN s.status = 'pending' THEN NULL ELSE 'sim_bench_' || s.i END,
            s.status, 'bench-config-' || (s.i % 50), '{"learning_rate": 0.0001, "max_steps": 2000}', 'l40s', 10,
            'bench' || s.i, 1.75, CASE WHEN s.status = 'completed' THEN 1.75 END, s.t, s.t,
            CASE WHEN s.status IN ('completed', 'failed') THEN s.t + interval '1 minute' END,
            CASE WHEN s.status <> 'pending' THEN s.t + interval '31 minutes' END, s.t
       FROM s JOIN u ON u.rn = s.i % ${USERS}`,
  );
  await db.query(
    `INSERT INTO queue_entries (job_id, user_id, org_id, provider, base_priority, effective_priority, status, queued_at,
                                pending_since, next_aging_at, dispatched_at, finished_at, max_attempts, updated_at)
     SELECT job_id, user_id, org_id, provider, priority, priority, status, queued_at,
            CASE WHEN status = 'pending' THEN queued_at END,
            CASE WHEN status = 'pending' THEN queued_at + interval '60 minutes' END,
            started_at, completed_at, 3, updated_at
       FROM jobs WHERE correlation_id LIKE 'bench%'`,
  );
  const [user]: { id: string }[] = await db.query(`SELECT id FROM users WHERE username = 'bench-user-0'`);
  await db.query(`INSERT INTO api_keys (user_id, name, key_hash, key_prefix) VALUES ($1, 'bench', $2, $3)`, [
    user.id,
    stored.hash,
    stored.prefix,
  ]);
  // A job in the middle of the queue: its position counts about half the pending entries.
  const [pending]: { job_id: string }[] = await db.query(
    `SELECT job_id FROM queue_entries WHERE user_id = $1 AND status = 'pending' ORDER BY queued_at OFFSET 5 LIMIT 1`,
    [user.id],
  );
  for (const table of ['orgs', 'users', 'api_keys', 'jobs', 'queue_entries']) await db.query(`ANALYZE ${table}`);
  const [counts]: { jobs: number; pending: number }[] = await db.query(
    `SELECT (SELECT count(*) FROM jobs)::int AS jobs,
            (SELECT count(*) FROM queue_entries WHERE status = 'pending')::int AS pending`,
  );
  return { key, pendingJobId: pending.job_id, jobs: counts.jobs, pendingEntries: counts.pending };
}
