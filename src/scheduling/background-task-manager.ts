import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { BeforeApplicationShutdown, Injectable, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config';
import { generateCorrelationId, LogContext, runWithCorrelationId } from '../context';
import { getLogger } from '../logging';
import { MetricsService } from '../metrics/metrics.service';
import { TaskLeaseRepository } from './task-lease.repository';
import { DeclaredTaskDef, IntervalTaskDef, TaskState, TickContext, TickFn, TickOutcome } from './task-types';
import { TaskMetrics } from './task-metrics';

const log = getLogger('simpletuner.cloud.scheduling');

interface Task {
  state: TaskState;
  def?: IntervalTaskDef;
  /** Present while the body runs: what shutdown waits for. */
  inFlight?: Promise<void>;
}

let current: BackgroundTaskManager | undefined;

/**
 * Knows every scheduled task and owns the shared tick wrapper (SPEC §10, STYLE "Scheduled work"). Interval tasks
 * whose period comes from config are scheduled here through SchedulerRegistry once the app listens; decorator
 * tasks (@Interval/@Cron) declare themselves and call runTick, which refuses to run before start or after stop.
 */
@Injectable()
export class BackgroundTaskManager implements BeforeApplicationShutdown {
  private readonly tasks = new Map<string, Task>();
  private started = false;
  private stopping = false;
  /** Settles when shutdown has waited for (or given up on) the in-flight ticks; repeated stop() calls share it. */
  private drained: Promise<void> = Promise.resolve();
  private readonly metrics: TaskMetrics;
  /** Written into task_leases.holder: which instance ran the interval. */
  readonly instanceId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly config: AppConfig,
    private readonly leases: TaskLeaseRepository,
    @Optional() metrics?: MetricsService,
  ) {
    this.metrics = new TaskMetrics(metrics);
    // The most recent app in this process; several apps in one process should use their own instance.
    current = this;
  }

  registerInterval(def: IntervalTaskDef): void {
    assertInterval(def.name, def.intervalSeconds);
    const task = this.add(def.name, {
      kind: 'interval',
      interval_seconds: def.intervalSeconds,
      schedule: `every ${def.intervalSeconds}s`,
      enabled: def.enabled ?? true,
      reason: def.reason ?? null,
      leader: def.leader ?? false,
    });
    task.def = def;
    if (this.started && !this.stopping && task.state.enabled) this.schedule(task);
  }

  declare(def: DeclaredTaskDef): void {
    if (def.leader) assertInterval(def.name, def.intervalSeconds);
    this.add(def.name, {
      kind: 'declared',
      interval_seconds: def.intervalSeconds ?? null,
      schedule: def.schedule,
      enabled: true,
      reason: null,
      leader: def.leader ?? false,
    });
  }

  has(name: string): boolean {
    return this.tasks.has(name);
  }

  isStarted(): boolean {
    return this.started && !this.stopping;
  }

  getStates(): TaskState[] {
    return [...this.tasks.values()].map((t) => ({ ...t.state }));
  }

  getState(name: string): TaskState | undefined {
    const t = this.tasks.get(name);
    return t && { ...t.state };
  }

  /** Starts or stops one task at run time (SPEC §10: polling follows its setting without a restart). */
  setEnabled(name: string, enabled: boolean, reason?: string): void {
    const task = this.get(name);
    const changed = task.state.enabled !== enabled;
    task.state.enabled = enabled;
    if (reason !== undefined) task.state.reason = reason;
    if (!changed || !task.def || !this.started || this.stopping) return;
    if (enabled) this.schedule(task);
    else this.unschedule(task, true);
  }

  setIntervalSeconds(name: string, seconds: number): void {
    assertInterval(name, seconds);
    const task = this.get(name);
    task.state.interval_seconds = seconds;
    if (!task.def) return;
    task.def = { ...task.def, intervalSeconds: seconds };
    task.state.schedule = `every ${seconds}s`;
    if (this.started && !this.stopping && task.state.enabled) {
      this.unschedule(task, false);
      this.schedule(task);
    }
  }

  /** Schedules every enabled interval task; call once the app listens. Idempotent. */
  async start(): Promise<void> {
    if (this.started || this.stopping) return;
    this.started = true;
    for (const task of this.tasks.values()) {
      if (task.def && task.state.enabled) this.schedule(task);
    }
    log.info('Background tasks started', { tasks: [...this.tasks.keys()] });
  }

  /**
   * No new tick starts; in-flight ticks get up to timeoutMs (default SIMPLETUNER_SHUTDOWN_TIMEOUT) to finish,
   * after which they are abandoned with a WARNING. Never throws: shutdown must still exit 0.
   */
  async stop(timeoutMs = this.config.env.SIMPLETUNER_SHUTDOWN_TIMEOUT * 1000): Promise<void> {
    if (this.stopping) return this.drained;
    this.stopping = true;
    for (const task of this.tasks.values()) if (task.def) this.unschedule(task, true);
    this.drained = this.drain(timeoutMs);
    return this.drained;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /**
   * The shared tick wrapper: a fresh CLS context and correlation id, no overlap with the previous run, the lease
   * for leader tasks, and every outcome recorded; an exception is logged and the schedule goes on.
   */
  async runTick(name: string, fn: TickFn): Promise<void> {
    if (!this.started || this.stopping) return; // @Interval fires before listen and until shutdown hooks
    let task = this.tasks.get(name);
    if (!task) {
      log.warning(`Background task ${name} ran without being declared`, { task: name });
      this.declare({ name, schedule: 'undeclared' });
      task = this.get(name);
    }
    if (!task.state.enabled) return;
    if (task.inFlight) {
      task.state.skipped++;
      this.metrics.outcome(name, 'skipped');
      return;
    }
    const correlationId = generateCorrelationId();
    const ctx: TickContext = { taskName: name, tickId: correlationId, correlationId, startedAt: new Date() };
    const run = runWithCorrelationId(correlationId, () =>
      LogContext.run({ task: name, tick_id: correlationId }, () => this.execute(task, fn, ctx)),
    );
    task.inFlight = run;
    try {
      await run;
    } finally {
      task.inFlight = undefined;
    }
  }

  private async execute(task: Task, fn: TickFn, ctx: TickContext): Promise<void> {
    const s = task.state;
    s.running = true;
    try {
      if (s.leader && !(await this.winLease(s))) {
        s.not_leader++;
        this.metrics.outcome(s.name, 'not_leader');
        return;
      }
      await this.measure(s, fn, ctx);
    } catch (err) {
      // Only the lease query can land here: count it as a failed run so an unreachable database shows.
      this.recordFailure(s, err);
    } finally {
      s.running = false;
    }
  }

  private async measure(s: TaskState, fn: TickFn, ctx: TickContext): Promise<void> {
    const started = process.hrtime.bigint();
    s.last_started_at = ctx.startedAt.toISOString();
    let outcome: TickOutcome = 'success';
    try {
      await fn(ctx);
    } catch (err) {
      outcome = 'failure';
      this.recordFailure(s, err);
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      s.runs++;
      s.last_finished_at = new Date().toISOString();
      s.last_duration_ms = Math.round(ms * 1000) / 1000;
      if (outcome === 'success') this.metrics.outcome(s.name, 'success');
      this.metrics.duration(s.name, ms / 1000);
    }
  }

  private recordFailure(s: TaskState, err: unknown): void {
    s.failures++;
    s.last_error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    this.metrics.outcome(s.name, 'failure');
    log.error(`Background task ${s.name} failed`, { task: s.name, error: err });
  }

  private async winLease(s: TaskState): Promise<boolean> {
    return this.leases.tryAcquire(s.name, s.interval_seconds ?? 0, { holder: this.instanceId });
  }

  private async drain(timeoutMs: number): Promise<void> {
    const busy = [...this.tasks.values()].filter((t) => t.inFlight);
    if (busy.length === 0) return;
    log.info('Waiting for running background tasks to finish', {
      tasks: busy.map((t) => t.state.name),
      timeout_seconds: timeoutMs / 1000,
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const all = Promise.allSettled(busy.map((t) => t.inFlight)).then(() => 'done' as const);
    const result = await Promise.race([all, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      const left = busy.filter((t) => t.inFlight).map((t) => t.state.name);
      log.warning(`Abandoning background tasks still running after the shutdown timeout: ${left.join(', ')}`, {
        tasks: left,
        timeout_seconds: timeoutMs / 1000,
      });
    }
  }

  private add(
    name: string,
    fields: Pick<TaskState, 'kind' | 'interval_seconds' | 'schedule' | 'enabled' | 'reason' | 'leader'>,
  ): Task {
    if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(name)) throw new Error(`Invalid background task name: ${JSON.stringify(name)}`);
    if (this.tasks.has(name)) throw new Error(`Background task ${name} is already registered`);
    const task: Task = {
      state: {
        name,
        ...fields,
        running: false,
        last_started_at: null,
        last_finished_at: null,
        last_duration_ms: null,
        last_error: null,
        runs: 0,
        failures: 0,
        skipped: 0,
        not_leader: 0,
      },
    };
    this.tasks.set(name, task);
    return task;
  }

  private get(name: string): Task {
    const task = this.tasks.get(name);
    if (!task) throw new Error(`Unknown background task: ${name}`);
    return task;
  }

  private schedule(task: Task): void {
    const def = task.def!;
    const key = registryKey(def.name);
    try {
      if (this.registry.doesExist('interval', key)) return;
      const handle = setInterval(
        () => void this.runTick(def.name, (ctx) => task.def!.run(ctx)),
        def.intervalSeconds * 1000,
      );
      this.registry.addInterval(key, handle);
    } catch (err) {
      task.state.last_error = `failed to start: ${(err as Error).message}`;
      if (def.onStartError) def.onStartError(err);
      else log.error(`Failed to start background task ${def.name}`, { task: def.name, error: err });
      return;
    }
    this.callHook(def.name, () => def.onStart?.({ ...task.state }));
  }

  private unschedule(task: Task, notify: boolean): void {
    const key = registryKey(task.state.name);
    // The schedule module may already have cleared it in its own shutdown hook.
    if (!this.registry.doesExist('interval', key)) return;
    this.registry.deleteInterval(key);
    if (notify) this.callHook(task.state.name, () => task.def?.onStop?.({ ...task.state }));
  }

  private callHook(name: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.error(`Start/stop hook of background task ${name} failed`, { task: name, error: err });
    }
  }
}

function registryKey(name: string): string {
  return `background-task:${name}`;
}

function assertInterval(name: string, seconds: number | undefined): asserts seconds is number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(`Background task ${name}: interval must be a positive number of seconds, got ${seconds}`);
  }
}

/** The manager of the most recently created app in this process (the seed's get_task_manager()). */
export function getTaskManager(): BackgroundTaskManager {
  if (!current) throw new Error('No BackgroundTaskManager yet: create the app (SchedulingModule) first');
  return current;
}

export function startBackgroundTasks(): Promise<void> {
  return getTaskManager().start();
}

export function stopBackgroundTasks(timeoutMs?: number): Promise<void> {
  return getTaskManager().stop(timeoutMs);
}
