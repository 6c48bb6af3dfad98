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
/**
 * Our ticks and pg-boss's rounds under the same contract, alternating, at a constant depth (what a round dispatched
 * goes back into the queue): the rounds measured, after the warm-up ones.
 */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
export const WARM_UP = 3;
/** Dispatches measured for the sustained rate, at every depth, for us and for pg-boss. */
export const SUSTAINED = 500;
export const BATCH = 100;

export const DB_NAME = 'test_bench_queue';

export class InstantProvider implements TrainingProvider {
  readonly name = 'bench';
  private n = 0;
  /** Prediction ids start with `prefix`: two of these on one table never hand out the same id. */
  constructor(private readonly prefix = 'b') {}
  async submit(): Promise<ProviderSubmission> {
    return { externalId: `${this.prefix}_${++this.n}`, status: 'queued' };
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
  /** Jobs pg-boss fetched over a limit and handed back during the measured rounds. */
  bossHandedBack: number;
  floorPerSec: number;
  /** CPU per 100 dispatched, ours and pg-boss's, here and in the database (see CpuMeter). */
  cpu: string;
  /** The 1-minute load average when ours and pg-boss under the contract started, and when they finished. */
  load: [number, number];
}

export async function seedMembers(db: DataSource): Promise<void> {
  await db.query(`INSERT INTO orgs (name) SELECT 'bench-org-' || o FROM generate_series(0, ${ORGS - 1}) o`);
  await db.query(
    `INSERT INTO users (username, level, org_id)
     SELECT 'bench-user-' || u, 'lead', (SELECT id FROM orgs WHERE name = 'bench-org-' || (u % ${ORGS}))
       FROM generate_series(0, ${USERS - 1}) u`,
  );
}

/**
 * N pending jobs with their entries, spread over users, priorities and the last 50 minutes (no aging due); with
 * `forBoss`, as many more pending jobs without entries (correlation id `boss…`), which pg-boss carries in the same
 * tables (see BossContract).
 */
export async function seedQueue(db: DataSource, n: number, forBoss = 0): Promise<void> {
  await db.query(`TRUNCATE queue_entries, jobs, events CASCADE`);
  await db.query(
    `WITH u AS (SELECT id, org_id, (row_number() OVER (ORDER BY username) - 1)::int AS rn FROM users WHERE username LIKE 'bench-user-%')
     INSERT INTO jobs (user_id, org_id, provider, status, config_name, hardware_profile, priority, correlation_id, queued_at, created_at)
     SELECT u.id, u.org_id, 'bench', 'pending', 'cfg', 'l40s', (i % 4) * 10, CASE WHEN i <= $1::int THEN 'bench' ELSE 'boss' END || i,
            now() - make_interval(secs => 3000 * random()), now()
       FROM generate_series(1, $1::int + $2::int) i JOIN u ON u.rn = (i * 7919) % ${USERS}`,
    [n, forBoss],
  );
  await db.query(
    `INSERT INTO queue_entries (job_id, user_id, org_id, provider, base_priority, effective_priority, status, queued_at, pending_since, next_aging_at, max_attempts)
     SELECT job_id, user_id, org_id, provider, priority, priority, 'pending', queued_at, queued_at, queued_at + interval '60 minutes', 3
       FROM jobs WHERE correlation_id LIKE 'bench%'`,
  );
  await db.query(`VACUUM ANALYZE queue_entries`);
  await db.query(`VACUUM ANALYZE jobs`);
}
