/** What bench/queue.ts and its baselines share: sizes, the seeded data, the instant provider, formatting. */
import { DataSource } from 'typeorm';
import type { ProviderJobState, ProviderSubmission, TrainingProvider } from '../src/providers/provider.interface';
import { databaseUrl, withAdminClient } from '../test/support/test-database';

export const SIZES = process.env.BENCH_SIZES
  ? process.env.BENCH_SIZES.split(',').map(Number)
  : [1_000, 10_000, 100_000];
export const USERS = 1_000;
export const ORGS = 50;
export const LIMITS = { max_concurrent: 100, user_max_concurrent: 2, org_max_concurrent: 10 };
export const TICK_SAMPLES = 3;
/** Dispatches measured for the sustained rate, at every depth, for us and for pg-boss. */
export const SUSTAINED = 500;
export const BATCH = 100;

export const DB_NAME = 'test_bench_queue';

export class InstantProvider implements TrainingProvider {
  readonly name = 'bench';
  private n = 0;
  async submit(): Promise<ProviderSubmission> {
    return { externalId: `b_${++this.n}`, status: 'queued' };
  }
  async get(): Promise<ProviderJobState | null> {
    return null;
  }
  async cancel(): Promise<void> {}
  async findByJobId(): Promise<ProviderJobState | null> {
    return null;
  }
}

/** Bench databases go through the tests' helpers, so they too must have "test" in their name. */
export const dbUrl = databaseUrl;
export const admin = (sql: string): Promise<void> => withAdminClient(async (c) => void (await c.query(sql)));

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
export const fmt = (n: number, d = 1) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export interface Row {
  size: number;
  tickMs: number;
  dispatchOnlyPerSec: number;
  sustainedPerSec: number;
  bossFetchMs: number;
  bossSendPerSec: number;
  bossPerSec: number;
  /** pg-boss as the queue under this service's contract (see bossUnderContract). */
  bossContractPerSec: number;
  floorPerSec: number;
}

export async function seedMembers(db: DataSource): Promise<void> {
  await db.query(`INSERT INTO orgs (name) SELECT 'bench-org-' || o FROM generate_series(0, ${ORGS - 1}) o`);
  await db.query(
    `INSERT INTO users (username, level, org_id)
     SELECT 'bench-user-' || u, 'lead', (SELECT id FROM orgs WHERE name = 'bench-org-' || (u % ${ORGS}))
       FROM generate_series(0, ${USERS - 1}) u`,
  );
}

/** N pending jobs with their entries, spread over users, priorities and the last 50 minutes (no aging due). */
export async function seedQueue(db: DataSource, n: number): Promise<void> {
  await db.query(`TRUNCATE queue_entries, jobs, events CASCADE`);
  await db.query(
    `WITH u AS (SELECT id, org_id, (row_number() OVER (ORDER BY username) - 1)::int AS rn FROM users WHERE username LIKE 'bench-user-%')
     INSERT INTO jobs (user_id, org_id, provider, status, config_name, hardware_profile, priority, correlation_id, queued_at, created_at)
     SELECT u.id, u.org_id, 'bench', 'pending', 'cfg', 'l40s', (i % 4) * 10, 'bench' || i,
            now() - make_interval(secs => 3000 * random()), now()
       FROM generate_series(1, $1) i JOIN u ON u.rn = (i * 7919) % ${USERS}`,
    [n],
  );
  await db.query(
    `INSERT INTO queue_entries (job_id, user_id, org_id, provider, base_priority, effective_priority, status, queued_at, pending_since, next_aging_at, max_attempts)
     SELECT job_id, user_id, org_id, provider, priority, priority, 'pending', queued_at, queued_at, queued_at + interval '60 minutes', 3 FROM jobs`,
  );
  await db.query(`VACUUM ANALYZE queue_entries`);
  await db.query(`VACUUM ANALYZE jobs`);
}
