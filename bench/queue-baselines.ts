/** The baselines bench/queue.ts measures ours against, in the same run and database. */
import { Client, escapeLiteral } from 'pg';
import PgBoss from 'pg-boss';
import { DataSource } from 'typeorm';
import {
  BATCH,
  dbUrl,
  DB_NAME,
  InstantProvider,
  median,
  ms,
  ORGS,
  Row,
  seedQueue,
  SUSTAINED,
  TICK_SAMPLES,
  USERS,
} from './queue-common';
import type { CpuMeter } from './queue-cpu';

/**
 * The floor: the rows one dispatch of 100 must write (claim to `dispatching` and commit; read the jobs; lock them,
 * entries to `running`, jobs to `queued` with their prediction ids, 200 events, commit) as bare SQL on one
 * connection, in as few round trips as the contract allows (three: the claim must commit before the provider call,
 * and the record needs the provider's answers), with none of the service's logic (no aging, limits, reconcile,
 * transition rule, hooks or logs). What no implementation of the same contract on this database can go below.
 */
export async function benchFloor(db: DataSource, n: number, meter: CpuMeter): Promise<number> {
  await seedQueue(db, n);
  const c = new Client({ connectionString: dbUrl(DB_NAME) });
  await c.connect();
  try {
    const times: number[] = [];
    for (let round = 0; round <= TICK_SAMPLES + SUSTAINED / BATCH; round++) {
      await meter.refresh();
      const took = await (round > 0
        ? meter.measure(
            'bare-SQL floor',
            () => BATCH,
            () => floorRound(c),
          )
        : floorRound(c));
      if (round > 0) times.push(took); // the first round warms up
      await c.query(`UPDATE queue_entries SET status = 'completed' WHERE status = 'running'`);
    }
    return (BATCH / median(times)) * 1000;
  } finally {
    await c.end();
  }
}

/** One dispatch of 100 as bare SQL (see benchFloor); its duration. */
async function floorRound(c: Client): Promise<number> {
  const t = process.hrtime.bigint();
  const claimed = (await c.query(
    `BEGIN; SELECT pg_advisory_xact_lock(42);
         UPDATE queue_entries SET status = 'dispatching', dispatched_at = now(), dispatch_token = 'floor', attempt = attempt + 1, updated_at = now()
          WHERE job_id IN (SELECT job_id FROM queue_entries WHERE status = 'pending' ORDER BY effective_priority DESC, queued_at, job_id LIMIT ${BATCH})
          RETURNING job_id;
         COMMIT`,
  )) as unknown as { rows: { job_id: string }[] }[];
  const ids = claimed[2].rows.map((r) => r.job_id);
  const jobs = await c.query<{ job_id: string; user_id: string; org_id: string }>(
    `SELECT * FROM jobs WHERE job_id = ANY($1::uuid[])`,
    [ids],
  );
  const events = jobs.rows.flatMap((j) => [
    {
      type: 'job_status_changed',
      job_id: j.job_id,
      user_id: j.user_id,
      org_id: j.org_id,
      data: { job_id: j.job_id, status: 'queued', previous_status: 'pending' },
    },
    {
      type: 'job_dispatched',
      job_id: j.job_id,
      user_id: j.user_id,
      org_id: j.org_id,
      data: { job_id: j.job_id, external_id: `f_${j.job_id}`, attempt: 1 },
    },
  ]);
  const idList = escapeLiteral(`{${ids.join(',')}}`);
  await c.query(
    `BEGIN;
         SELECT job_id FROM jobs WHERE job_id = ANY(${idList}::uuid[]) ORDER BY job_id FOR UPDATE;
         UPDATE queue_entries SET status = 'running', updated_at = now() WHERE job_id = ANY(${idList}::uuid[]);
         UPDATE jobs SET status = 'queued', external_id = 'f_' || job_id, attempt = 1, updated_at = now() WHERE job_id = ANY(${idList}::uuid[]);
         WITH ins AS (INSERT INTO events (type, job_id, user_id, org_id, data)
           SELECT type, job_id, user_id, org_id, data
             FROM jsonb_to_recordset(${escapeLiteral(JSON.stringify(events))}::jsonb)
                  AS (type text, job_id text, user_id uuid, org_id uuid, data jsonb)
           RETURNING id)
         SELECT pg_notify('simpletuner_events', max(id)::text) FROM ins;
         COMMIT`,
  );
  return ms(t);
}

export async function benchBoss(n: number): Promise<Pick<Row, 'bossFetchMs' | 'bossSendPerSec' | 'bossPerSec'>> {
  const boss = new PgBoss({
    connectionString: dbUrl(DB_NAME),
    schema: 'pgboss_bench',
    supervise: false,
    schedule: false,
    max: 10,
  });
  boss.on('error', (e) => console.error('pg-boss error', e));
  await boss.start();
  try {
    await boss.createQueue('bench');
    const provider = new InstantProvider();
    let t = process.hrtime.bigint();
    for (let i = 0; i < n; i += 1000) {
      const chunk = Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({
        name: 'bench',
        data: { user: (i + k) % USERS, org: (i + k) % ORGS },
        priority: ((i + k) % 4) * 10,
      }));
      await boss.insert(chunk);
    }
    const sendPerSec = (n / ms(t)) * 1000;
    const cycle = async () => {
      const jobs = await boss.fetch<{ user: number }>('bench', { batchSize: BATCH, priority: true });
      await Promise.all(jobs.map(() => provider.submit()));
      await boss.complete(
        'bench',
        jobs.map((j) => j.id),
      );
      return jobs.length;
    };
    await cycle(); // warm-up
    const fetches: number[] = [];
    for (let i = 0; i < TICK_SAMPLES; i++) {
      t = process.hrtime.bigint();
      const jobs = await boss.fetch('bench', { batchSize: BATCH, priority: true });
      fetches.push(ms(t));
      await boss.complete(
        'bench',
        jobs.map((j) => j.id),
      );
    }
    t = process.hrtime.bigint();
    for (let done = 0; done < SUSTAINED;) done += await cycle();
    const perSec = (SUSTAINED / ms(t)) * 1000;
    return {
      bossFetchMs: median(fetches),
      bossSendPerSec: sendPerSec,
      bossPerSec: perSec,
    };
  } finally {
    await boss.stop({ graceful: false, wait: true });
    const c = new Client({ connectionString: dbUrl(DB_NAME) });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS pgboss_bench CASCADE`);
    await c.end();
  }
}
