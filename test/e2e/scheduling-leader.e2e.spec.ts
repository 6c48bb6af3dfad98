import { DynamicModule, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { BackgroundTaskManager, TaskState } from '../../src/scheduling';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const INTERVAL = 0.5; // seconds; ten intervals = 5 s
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every execution of a task body, by which instance, at what time. */
const executions: { task: string; instance: string; at: number }[] = [];

function leaderTasksModule(instance: string): DynamicModule {
  @Injectable()
  class LeaderTasks implements OnModuleInit {
    constructor(private readonly tasks: BackgroundTaskManager) {}
    onModuleInit(): void {
      const record = (task: string) => async () => void executions.push({ task, instance, at: Date.now() });
      this.tasks.registerInterval({
        name: 'expire_things',
        intervalSeconds: INTERVAL,
        leader: true,
        run: record('expire_things'),
      });
      // Control: the same schedule without the lease runs on every instance.
      this.tasks.registerInterval({ name: 'local_things', intervalSeconds: INTERVAL, run: record('local_things') });
    }
  }
  @Module({ providers: [LeaderTasks] })
  class LeaderTasksModule {}
  return { module: LeaderTasksModule };
}

describe('single-leader task across two instances on one PostgreSQL', () => {
  let db: TestDatabase;
  let one: TestApp;
  let two: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
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

  it('runs the body exactly once per interval across both instances over ten intervals', async () => {
    await sleep(2 * INTERVAL * 1000); // both schedules running
    const from = Date.now();
    await sleep(10 * INTERVAL * 1000);
    const to = Date.now();
    const inWindow = (task: string) => executions.filter((e) => e.task === task && e.at >= from && e.at < to);

    const leader = inWindow('expire_things');
    const local = inWindow('local_things');
    // Each instance ticks ten times in the window: the unleased control runs ~20 times, the leased task ~10.
    expect(local.length).toBeGreaterThanOrEqual(18);
    expect(leader.length).toBeGreaterThanOrEqual(9);
    expect(leader.length).toBeLessThanOrEqual(11);
    // Never twice in one interval: consecutive runs (whichever instance) stay most of an interval apart.
    const gaps = leader.slice(1).map((e, i) => e.at - leader[i].at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(INTERVAL * 1000 * 0.7);

    // Both instances really competed for it: the losers' ticks show as not_leader in their own state.
    const stateOf = async (app: TestApp): Promise<TaskState> => {
      const res = await http(app.url, 'GET', '/api/cloud/background-tasks', { key: app.adminKey });
      return res.body.tasks.find((t: TaskState) => t.name === 'expire_things');
    };
    const [s1, s2] = await Promise.all([stateOf(one), stateOf(two)]);
    expect(s1.leader).toBe(true);
    const ticks = s1.runs + s1.not_leader + s2.runs + s2.not_leader;
    const ran = s1.runs + s2.runs;
    expect(s1.not_leader + s2.not_leader).toBeGreaterThanOrEqual(ran - 2);
    expect(ticks).toBeGreaterThanOrEqual(2 * ran - 3);
    expect(s1.failures + s2.failures).toBe(0);
  });
});
