import { DynamicModule, Injectable, Module } from '@nestjs/common';
import { Client } from 'pg';
import { BackgroundTaskManager, Interval, leaseSlackSeconds, TaskState } from '../../src/scheduling';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const INTERVAL = 1; // seconds
const WATCH_INTERVALS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every execution of a task body, by which instance. */
const executions: { task: string; instance: string }[] = [];

function leaderTasksModule(instance: string): DynamicModule {
  @Injectable()
  class LeaderTasks {
    @Interval('expire_things', INTERVAL, { leader: true })
    expireThings(): void {
      executions.push({ task: 'expire_things', instance });
    }

    // Control: the same schedule without the lease runs on every instance.
    @Interval('local_things', INTERVAL)
    localThings(): void {
      executions.push({ task: 'local_things', instance });
    }
  }
  @Module({ providers: [LeaderTasks] })
  class LeaderTasksModule {}
  return { module: LeaderTasksModule };
}

async function sql<T = Record<string, any>>(url: string, text: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * The database itself records every lease a tick wins: the run records this test reads. Only changes of
 * last_run_at count: a run's end clears its running mark on the same row without winning anything.
 */
const RECORD_LEASES = `
  CREATE TABLE lease_wins (task text NOT NULL, last_run_at timestamptz NOT NULL, holder text);
  CREATE FUNCTION record_lease_win() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO lease_wins VALUES (NEW.task, NEW.last_run_at, NEW.holder);
      RETURN NULL;
    END $$;
  CREATE TRIGGER record_lease_win AFTER INSERT OR UPDATE OF last_run_at ON task_leases
    FOR EACH ROW EXECUTE FUNCTION record_lease_win();`;

describe('single-leader task across two instances on one PostgreSQL', () => {
  let db: TestDatabase;
  let one: TestApp;
  let two: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    await sql(db.url, RECORD_LEASES);
    one = await startTestApp({ database: db, imports: [leaderTasksModule('one')] });
    // Same database, same bootstrap admin key.
    const env = { SIMPLETUNER_ADMIN_API_KEY: one.adminKey };
    two = await startTestApp({ database: db, env, imports: [leaderTasksModule('two')] });
  });
  afterAll(async () => {
    await one?.stop();
    await two?.stop();
    await db?.drop();
  });

  it('runs the body once per interval across both instances, as the lease rows record', async () => {
    const [{ t0 }] = await sql<{ t0: Date }>(db.url, `SELECT now() AS t0`);
    await sleep(WATCH_INTERVALS * INTERVAL * 1000);
    // No tick after this: the records below are final.
    const managers = [one, two].map((a) => a.app.get(BackgroundTaskManager));
    await Promise.all(managers.map((m) => m.stop()));

    const wins = await sql<{ last_run_at: Date; holder: string }>(
      db.url,
      `SELECT last_run_at, holder FROM lease_wins WHERE task = 'expire_things' ORDER BY last_run_at`,
    );
    const instanceOf = new Map([
      [managers[0].instanceId, 'one'],
      [managers[1].instanceId, 'two'],
    ]);
    const tally = (names: string[]) =>
      names.reduce<Record<string, number>>((c, n) => ({ ...c, [n]: (c[n] ?? 0) + 1 }), {});

    // Every execution of the body, on either instance, is one lease won by that instance, and nothing else is.
    const ran = executions.filter((e) => e.task === 'expire_things').map((e) => e.instance);
    expect(tally(ran)).toEqual(tally(wins.map((w) => instanceOf.get(w.holder) ?? `unknown holder ${w.holder}`)));

    // On the database clock, while both instances were ticking: consecutive runs are never within one interval
    // (less the lease's jitter slack) of each other, and no interval passes without a run.
    const watched = wins.filter((w) => w.last_run_at.getTime() >= t0.getTime()).map((w) => w.last_run_at.getTime());
    expect(watched.length).toBeGreaterThanOrEqual(2);
    const gaps = watched.slice(1).map((t, i) => t - watched[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual((INTERVAL - leaseSlackSeconds(INTERVAL)) * 1000);
    expect(Math.max(...gaps)).toBeLessThan(2 * INTERVAL * 1000);

    // The lease, not luck, kept it single: the instances' ticks competed and the losers stood aside.
    const stateOf = async (app: TestApp): Promise<TaskState> => {
      const res = await http(app.url, 'GET', '/api/cloud/background-tasks', { key: app.adminKey });
      return res.body.tasks.find((t: TaskState) => t.name === 'expire_things');
    };
    const [s1, s2] = await Promise.all([stateOf(one), stateOf(two)]);
    expect([s1.leader, s2.leader]).toEqual([true, true]);
    expect(s1.not_leader + s2.not_leader).toBeGreaterThan(0);
    const byInstance = tally(ran);
    expect({ one: s1.runs, two: s2.runs }).toEqual({ one: byInstance.one ?? 0, two: byInstance.two ?? 0 });
    expect(s1.failures + s2.failures).toBe(0);

    // The control task without a lease ran on both instances.
    const local = new Set(executions.filter((e) => e.task === 'local_things').map((e) => e.instance));
    expect([...local].sort()).toEqual(['one', 'two']);
  });
});
