/**
 * pg-boss carrying this service's dispatch contract: what a team would build on pg-boss instead of our queue, as
 * lean as that design allows, measured in the same database as ours (see bossUnderContract).
 */
import { Client } from 'pg';
import PgBoss from 'pg-boss';
import { BATCH, dbUrl, DB_NAME, fmt, InstantProvider, ms } from './queue-common';
import type { CpuMeter } from './queue-cpu';

const QUEUE = 'bench_contract';
const SCHEMA = 'pgboss_contract';
/** Serialises the claim across instances, like ours: a count and a fetch under SKIP LOCKED alone over-admit. */
const CLAIM_LOCK = 4_242_424_242;

interface Data {
  job_id: string;
  user_id: string;
  org_id: string;
}

interface Limits {
  max_concurrent: number;
  user_max_concurrent: number;
  org_max_concurrent: number;
}

/** pg-boss's optional `db` argument: its statements then run on our connection, inside our transaction. */
const onClient = (c: Client) => ({
  executeSql: (text: string, values?: unknown[]) => c.query(text, values),
});

/**
 * pg-boss 10's complete(name, ids, data, options) on our connection. Its typings offer (name, ids, options) for an
 * array, but the code reads the fourth argument as the options: through the typings the `db` would be stored as
 * the jobs' output and the statement run on pg-boss's own pool, outside our transaction.
 */
function completeOn(boss: PgBoss, ids: string[], c: Client): Promise<unknown> {
  const complete = boss.complete.bind(boss) as unknown as (
    name: string,
    ids: string[],
    data: null,
    options: PgBoss.ConnectionOptions,
  ) => Promise<unknown>;
  return complete(QUEUE, ids, null, { db: onClient(c) });
}

/** The batch pg-boss fetched, within the limits (in pg-boss's order, which is priority then age), and the rest. */
function withinLimits(
  jobs: PgBoss.Job<Data>[],
  limits: Limits,
  slots: { user_id: string; org_id: string; n: number }[],
): { taken: PgBoss.Job<Data>[]; over: string[] } {
  const byUser = new Map<string, number>();
  const byOrg = new Map<string, number>();
  for (const s of slots) {
    byUser.set(s.user_id, (byUser.get(s.user_id) ?? 0) + s.n);
    byOrg.set(s.org_id, (byOrg.get(s.org_id) ?? 0) + s.n);
  }
  let room = limits.max_concurrent - slots.reduce((n, s) => n + s.n, 0);
  const taken: PgBoss.Job<Data>[] = [];
  const over: string[] = [];
  for (const j of jobs) {
    const u = byUser.get(j.data.user_id) ?? 0;
    const o = byOrg.get(j.data.org_id) ?? 0;
    if (room <= 0 || u >= limits.user_max_concurrent || o >= limits.org_max_concurrent) {
      over.push(j.id);
      continue;
    }
    taken.push(j);
    room--;
    byUser.set(j.data.user_id, u + 1);
    byOrg.set(j.data.org_id, o + 1);
  }
  return { taken, over };
}

/**
 * The claim, in one transaction under an advisory lock: the limits (stored where ours are) and the slots in use (jobs
 * at the provider, plus pg-boss jobs fetched and not yet recorded) in one statement, pg-boss's fetch of a batch, and
 * the ones over a limit handed back to pg-boss (cancel + resume keeps their place). Commits before the provider call.
 */
async function claim(boss: PgBoss, c: Client): Promise<{ taken: PgBoss.Job<Data>[]; over: number }> {
  await c.query('BEGIN');
  try {
    await c.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
    const { rows } = await c.query<{ limits: Limits; slots: { user_id: string; org_id: string; n: number }[] | null }>(
      `SELECT (SELECT value FROM app_settings WHERE key = 'queue_limits') AS limits,
              (SELECT json_agg(s) FROM (
                 SELECT user_id, org_id, count(*)::int AS n FROM (
                   SELECT user_id::text, org_id::text FROM jobs WHERE status IN ('queued', 'running')
                   UNION ALL
                   SELECT data->>'user_id', data->>'org_id' FROM ${SCHEMA}.job WHERE name = $1 AND state = 'active'
                 ) busy GROUP BY user_id, org_id) s) AS slots`,
      [QUEUE],
    );
    const slots = rows[0].slots ?? [];
    const room = Math.min(BATCH, rows[0].limits.max_concurrent - slots.reduce((n, s) => n + s.n, 0));
    const fetched = room > 0 ? await boss.fetch<Data>(QUEUE, { batchSize: room, priority: true, db: onClient(c) }) : [];
    const { taken, over } = withinLimits(fetched, rows[0].limits, slots);
    if (over.length > 0) {
      await boss.cancel(QUEUE, over, { db: onClient(c) });
      await boss.resume(QUEUE, over, { db: onClient(c) });
    }
    await c.query('COMMIT');
    return { taken, over: over.length };
  } catch (err) {
    await c.query('ROLLBACK');
    throw err;
  }
}

/** The outcome, in one transaction: the job rows locked and set to `queued`, the two events, pg-boss's completion. */
async function record(boss: PgBoss, c: Client, jobs: PgBoss.Job<Data>[], externalIds: string[]): Promise<void> {
  const jobIds = jobs.map((j) => j.data.job_id);
  await c.query('BEGIN');
  try {
    const rows = await c.query<{ job_id: string; user_id: string; org_id: string; status: string; provider: string }>(
      `SELECT job_id, user_id, org_id, status, provider FROM jobs WHERE job_id = ANY($1::uuid[]) ORDER BY job_id FOR UPDATE`,
      [jobIds],
    );
    const externalId = new Map(jobIds.map((id, k) => [id, externalIds[k]]));
    await c.query(
      `UPDATE jobs j SET status = 'queued', external_id = v.external_id, attempt = 1, updated_at = now()
         FROM unnest($1::uuid[], $2::text[]) AS v(job_id, external_id) WHERE j.job_id = v.job_id`,
      [jobIds, externalIds],
    );
    const events = rows.rows.flatMap((j) => [
      {
        type: 'job_status_changed',
        job_id: j.job_id,
        user_id: j.user_id,
        org_id: j.org_id,
        data: { type: 'job_status_changed', job_id: j.job_id, status: 'queued', previous_status: j.status },
      },
      {
        type: 'job_dispatched',
        job_id: j.job_id,
        user_id: j.user_id,
        org_id: j.org_id,
        data: {
          type: 'job_dispatched',
          job_id: j.job_id,
          provider: j.provider,
          external_id: externalId.get(j.job_id),
          attempt: 1,
        },
      },
    ]);
    // Like ours: one insert, and one wake-up of the event stream riding in the transaction.
    await c.query(
      `WITH ins AS (
         INSERT INTO events (type, job_id, user_id, org_id, data)
         SELECT type, job_id, user_id, org_id, data
           FROM jsonb_to_recordset($1::jsonb) AS (type text, job_id text, user_id uuid, org_id uuid, data jsonb)
         RETURNING id)
       SELECT pg_notify('simpletuner_events', max(id)::text) FROM ins`,
      [JSON.stringify(events)],
    );
    await completeOn(
      boss,
      jobs.map((j) => j.id),
      c,
    );
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK');
    throw err;
  }
}

/**
 * pg-boss as the queue under this service's contract, limits included, on its own n pending jobs in the same tables
 * as ours (seedQueue's `boss…` jobs, which have no queue entries). pg-boss holds one job per pending job (its
 * priority, in queue order). A round is: the claim under the limits (see claim), the claimed job rows read for the
 * provider, the provider calls, the outcome recorded (see record). Then, outside the timing, its jobs go back into the
 * queue, freeing their slots, as ours do between ticks. bench/queue.ts runs a round after each of our ticks, so both
 * see the same load. pg-boss has no aging and this design no reconcile pass; ours runs both every tick. Partial
 * indexes serve the slot count, as ours has one; they go with the run.
 */
export class BossContract {
  private dispatched = 0;
  private busyMs = 0;
  /** Jobs pg-boss fetched that were over a limit and went back: the limits really bite on this side too. */
  handedBack = 0;
  private readonly provider = new InstantProvider('boss');

  private constructor(
    private readonly boss: PgBoss,
    private readonly c: Client,
    /** Each job's priority, for its next pg-boss job. */
    private readonly priorities: Map<string, number>,
  ) {}

  static async start(n: number): Promise<BossContract> {
    const boss = new PgBoss({
      connectionString: dbUrl(DB_NAME),
      schema: SCHEMA,
      supervise: false,
      schedule: false,
      max: 10,
    });
    boss.on('error', (e) => console.error('pg-boss error', e));
    await boss.start();
    const c = new Client({ connectionString: dbUrl(DB_NAME) });
    await c.connect();
    await boss.createQueue(QUEUE);
    await c.query(`CREATE INDEX bench_boss_busy_idx ON jobs (user_id, org_id) WHERE status IN ('queued', 'running')`);
    // pg-boss indexes only the states before `active`.
    await c.query(`CREATE INDEX bench_boss_active_idx ON ${SCHEMA}.job (name) WHERE state = 'active'`);
    const pending = (
      await c.query<{ job_id: string; user_id: string; org_id: string; priority: number }>(
        `SELECT job_id, user_id, org_id, priority FROM jobs WHERE status = 'pending' AND correlation_id LIKE 'boss%'
          ORDER BY queued_at, job_id`,
      )
    ).rows;
    if (pending.length !== n) throw new Error(`expected ${n} jobs for pg-boss, found ${pending.length}`);
    for (let i = 0; i < pending.length; i += 1000) {
      await boss.insert(
        pending.slice(i, i + 1000).map((r) => ({
          name: QUEUE,
          data: { job_id: r.job_id, user_id: r.user_id, org_id: r.org_id },
          priority: r.priority,
        })),
      );
    }
    await c.query(`ANALYZE jobs`);
    return new BossContract(boss, c, new Map(pending.map((r) => [r.job_id, r.priority])));
  }

  /**
   * One dispatch round, timed (and its CPU metered) when `measured`; then, outside the timing, its jobs go back into the queue (pending, and
   * a new pg-boss job each; pg-boss's completed jobs deleted, as its maintenance would archive them).
   */
  async round(measured: boolean, meter: CpuMeter): Promise<void> {
    await meter.refresh();
    const t = process.hrtime.bigint();
    const { jobs, over } = measured
      ? await meter.measure(
          'pg-boss',
          (r) => r.jobs.length,
          () => this.dispatch(),
        )
      : await this.dispatch();
    const took = ms(t);
    if (process.env.BENCH_VERBOSE) console.log(`  pg-boss round: ${fmt(took)} ms, ${jobs.length} dispatched`);
    if (measured) {
      this.busyMs += took;
      this.dispatched += jobs.length;
      this.handedBack += over;
    }
    await this.requeue(jobs);
  }

  /** The claim, the job rows read for the provider, the provider calls, the outcome recorded. */
  private async dispatch(): Promise<{ jobs: PgBoss.Job<Data>[]; over: number }> {
    const { taken: jobs, over } = await claim(this.boss, this.c);
    if (jobs.length === 0) throw new Error('pg-boss under the contract claimed nothing');
    const read = await this.c.query(`SELECT * FROM jobs WHERE job_id = ANY($1::uuid[])`, [
      jobs.map((j) => j.data.job_id),
    ]);
    if (read.rowCount !== jobs.length) throw new Error('claimed jobs without their rows');
    const submitted = await Promise.all(jobs.map(() => this.provider.submit()));
    await record(
      this.boss,
      this.c,
      jobs,
      submitted.map((s) => s.externalId),
    );
    return { jobs, over };
  }

  private async requeue(jobs: PgBoss.Job<Data>[]): Promise<void> {
    const ids = jobs.map((j) => j.data.job_id);
    await this.c.query(
      `UPDATE jobs SET status = 'pending', external_id = NULL, attempt = 0, queued_at = now() WHERE job_id = ANY($1::uuid[])`,
      [ids],
    );
    await this.c.query(`DELETE FROM ${SCHEMA}.job WHERE name = $1 AND state = 'completed'`, [QUEUE]);
    await this.boss.insert(
      jobs.map((j) => ({ name: QUEUE, data: j.data, priority: this.priorities.get(j.data.job_id) ?? 0 })),
    );
  }

  /** Dispatches per second over the rounds since the warm-up. */
  perSec(): number {
    return (this.dispatched / this.busyMs) * 1000;
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true });
    await this.c.query(`DROP INDEX IF EXISTS bench_boss_busy_idx`);
    await this.c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await this.c.end();
  }
}
