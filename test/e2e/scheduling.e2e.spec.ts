import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Injectable, Module } from '@nestjs/common';
import { BackgroundTaskManager, Cron, Interval, runForSubject, TaskState, TickContext } from '../../src/scheduling';
import { getLogger } from '../../src/logging';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

const log = getLogger('simpletuner.cloud.test-tasks');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the slow task's body saw: how many copies of it ran at once. */
const slow = { active: 0, maxActive: 0, bodies: 0 };

let failingTicks = 0;

@Injectable()
class TestTasks {
  // 0.5 s of work on a 0.15 s schedule: without the wrapper's guard, three copies would run at once.
  @Interval('slow_task', 0.15)
  async slowTask(): Promise<void> {
    slow.active++;
    slow.bodies++;
    slow.maxActive = Math.max(slow.maxActive, slow.active);
    await sleep(500);
    slow.active--;
  }

  @Interval('failing_task', 0.15)
  failingTask(): void {
    throw new Error(`provider exploded #${++failingTicks}`);
  }

  @Interval('chatty_task', 0.25)
  async chattyTask(ctx: TickContext): Promise<void> {
    log.info('chatty tick begins');
    await sleep(20);
    // Work on one job logs under the job's own correlation id, with the tick id in extra.
    await runForSubject(ctx, 'job-corr-0001', { job_id: 'job-1', provider: 'replicate' }, async () => {
      await sleep(5);
      log.info('chatty synced a job');
    });
    log.info('chatty tick ends');
  }

  @Interval('toggled_task', 0.1, { enabled: false, reason: 'off in test' })
  toggledTask(): void {}

  // Six fields: every second, so a cron task ticks within the test's wait.
  @Cron('* * * * * *', { name: 'cron_task', timeZone: 'UTC' })
  cronTask(ctx: TickContext): void {
    log.info('cron tick', { started_at: ctx.startedAt.toISOString() });
  }
}

@Module({ providers: [TestTasks] })
class TestTasksModule {}

/** Log lines as JSON objects: from SIMPLETUNER_LOG_FILE when the logger writes it, else from stdout. */
function captureLogs(file: string) {
  const chunks: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown, ...rest: unknown[]) => {
    chunks.push(String(chunk));
    return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
  });
  return {
    lines(): any[] {
      const fromFile = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      const text = fromFile.trim() ? fromFile : chunks.join('');
      return text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return null;
          }
        })
        .filter(Boolean);
    },
    restore: () => spy.mockRestore(),
  };
}

describe('background task manager over HTTP (PostgreSQL)', () => {
  let app: TestApp;
  let logs: ReturnType<typeof captureLogs>;
  let logDir: string | undefined;
  const states = async (): Promise<Record<string, TaskState>> => {
    const res = await http(app.url, 'GET', '/api/cloud/background-tasks', { key: app.adminKey });
    expect(res.status).toBe(200);
    expect(res.body.started).toBe(true);
    return Object.fromEntries((res.body.tasks as TaskState[]).map((t) => [t.name, t]));
  };

  beforeAll(async () => {
    logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-sched-log-'));
    const logFile = path.join(logDir, 'cloud.log');
    logs = captureLogs(logFile);
    app = await startTestApp({
      imports: [TestTasksModule],
      env: { SIMPLETUNER_LOG_LEVEL: 'INFO', SIMPLETUNER_LOG_FILE: logFile, SIMPLETUNER_LOG_FORMAT: 'json' },
    });
    await sleep(1700);
  });
  afterAll(async () => {
    logs?.restore();
    await app?.stop();
    if (logDir) fs.rmSync(logDir, { recursive: true, force: true });
  });

  it('never overlaps a slow tick: runs are counted and the dropped ticks show as skipped', async () => {
    const s = (await states()).slow_task;
    expect(slow.maxActive).toBe(1);
    expect(s.runs).toBeGreaterThanOrEqual(2);
    expect(s.runs).toBeLessThanOrEqual(4); // 1.7 s / 0.5 s of work
    expect(s.skipped).toBeGreaterThanOrEqual(4); // about two ticks dropped per run
    expect(s.failures).toBe(0);
    expect(s.last_duration_ms).toBeGreaterThanOrEqual(490);
    // A fixed period of a local task is listed in `schedule`; interval_seconds is for configured and leader ones.
    expect(s).toMatchObject({
      kind: 'declared',
      schedule: 'every 0.15s',
      interval_seconds: null,
      enabled: true,
      last_error: null,
    });
    expect(Date.parse(s.last_finished_at!)).toBeGreaterThanOrEqual(Date.parse(s.last_started_at!) - 600);
    // Only finished bodies count as runs; one may be in flight.
    expect(slow.bodies - s.runs).toBeLessThanOrEqual(1);
  });

  it('keeps a task that throws on every tick on schedule, with last_error, failures and an ERROR line', async () => {
    const first = (await states()).failing_task;
    expect(first.failures).toBeGreaterThanOrEqual(5); // 1.7 s / 0.15 s, minus start-up slack
    expect(first.runs).toBe(first.failures);
    expect(first.last_error).toMatch(/^Error: provider exploded #\d+$/);
    await sleep(500);
    const later = (await states()).failing_task;
    expect(later.failures).toBeGreaterThan(first.failures + 1); // still ticking after all those failures
    const errors = logs.lines().filter((l) => l.level === 'ERROR' && l.message.includes('failing_task'));
    expect(errors.length).toBeGreaterThanOrEqual(first.failures);
    expect(errors[0].extra.task).toBe('failing_task');
    expect(errors[0].exception.message).toMatch(/provider exploded/);
    expect(errors[0].correlation_id).toMatch(/^[0-9a-f]{12}$/);
  });

  it("gives each tick its own correlation id, shared by that tick's lines; job lines use the job's id with tick_id", () => {
    const lines = logs.lines();
    const begins = lines.filter((l) => l.message === 'chatty tick begins');
    const ends = lines.filter((l) => l.message === 'chatty tick ends');
    expect(begins.length).toBeGreaterThanOrEqual(3);
    const ids = begins.map((l) => l.correlation_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const end of ends) expect(ids).toContain(end.correlation_id);
    for (const l of begins) expect(l.extra).toMatchObject({ task: 'chatty_task', tick_id: l.correlation_id });
    const jobLines = lines.filter((l) => l.message === 'chatty synced a job');
    expect(jobLines.length).toBeGreaterThanOrEqual(3);
    for (const l of jobLines) {
      expect(l.correlation_id).toBe('job-corr-0001');
      expect(l.extra).toMatchObject({ job_id: 'job-1', provider: 'replicate' });
      expect(ids).toContain(l.extra.tick_id);
    }
  });

  it('starts and stops a task at run time without a restart', async () => {
    const manager = app.app.get(BackgroundTaskManager);
    expect((await states()).toggled_task).toMatchObject({ enabled: false, reason: 'off in test', runs: 0 });
    manager.setEnabled('toggled_task', true, 'on by test');
    await sleep(450);
    const on = (await states()).toggled_task;
    expect(on.enabled).toBe(true);
    expect(on.reason).toBe('on by test');
    expect(on.runs).toBeGreaterThanOrEqual(2);
    manager.setEnabled('toggled_task', false, 'off again');
    await sleep(50);
    const stoppedAt = (await states()).toggled_task.runs;
    await sleep(350);
    expect((await states()).toggled_task.runs).toBe(stoppedAt);
  });

  it('runs a cron task through the same wrapper, listed with its expression', async () => {
    expect((await states()).cron_task).toMatchObject({
      kind: 'declared',
      interval_seconds: null,
      schedule: 'cron * * * * * * (UTC)',
      leader: false,
      failures: 0,
    });
    expect((await states()).cron_task.runs).toBeGreaterThanOrEqual(1);
    const ticks = logs.lines().filter((l) => l.message === 'cron tick');
    expect(ticks.length).toBeGreaterThanOrEqual(1);
    expect(ticks[0].extra.task).toBe('cron_task');
    expect(ticks[0].extra.tick_id).toBe(ticks[0].correlation_id);
  });

  it('refuses to run a tick of a task that no decorator declared', async () => {
    await expect(app.app.get(BackgroundTaskManager).runTick('no_such_task')).rejects.toThrow(
      /Unknown background task: no_such_task/,
    );
  });

  it('is admin-only', async () => {
    const res = await http(app.url, 'GET', '/api/cloud/background-tasks');
    expect(res.status).toBe(401);
  });

  it('turns /health/ready to 503 once the tasks stop for shutdown', async () => {
    expect((await http(app.url, 'GET', '/health/ready')).status).toBe(200);
    await app.app.get(BackgroundTaskManager).stop(2000);
    const res = await http(app.url, 'GET', '/health/ready');
    expect(res.status).toBe(503);
    expect(JSON.stringify(res.body)).toMatch(/background tasks not started/);
    const list = async () => (await http(app.url, 'GET', '/api/cloud/background-tasks', { key: app.adminKey })).body;
    const stopped = await list();
    expect(stopped.started).toBe(false);
    const failures = stopped.tasks.find((t: TaskState) => t.name === 'failing_task').failures;
    await sleep(400);
    expect((await list()).tasks.find((t: TaskState) => t.name === 'failing_task').failures).toBe(failures);
  });
});
