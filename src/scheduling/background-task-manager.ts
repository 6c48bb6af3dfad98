import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { AppConfig } from '../config';
import { generateCorrelationId, LogContext, runWithCorrelationId } from '../context';
import { getLogger } from '../logging';
import { MetricsService } from '../metrics';
import { ScheduledTaskExplorer } from './scheduled-task.explorer';
import { TaskLeaseRepository } from './task-lease.repository';
import { TaskDefinition, TaskState, TickContext, TickFn, TickOutcome } from '../common/scheduled-task.types';
import { TaskMetrics } from './task-metrics';
import { ConflictError, NotFoundError } from '../common/errors';

const log = getLogger('simpletuner.cloud.scheduling');
/** A run marked as going for longer than this (its instance died) no longer blocks a run asked for now. */
const MANUAL_RUN_STALE_SECONDS = 3600;

interface RunOutcome {
  outcome: 'success' | 'failure';
  duration_ms: number;
  error: string | null;
  /** What the task returned (its summary); null on failure. */
  summary: unknown;
}

/** A run asked for over the API, as it answers. */
export interface ManualRunResult extends RunOutcome {
  task: string;
  started_at: string;
}

interface Task {
  state: TaskState;
  def: TaskDefinition;
  /** Present while the body runs: what shutdown waits for. */
  inFlight?: Promise<void>;
}

/**
 * Knows every scheduled task (the @Interval/@Cron methods of the app's providers, found at module init) and owns
 * the shared tick wrapper. Nothing is scheduled before start(), called once the app listens, so no tick runs
 * against an app that does not serve yet; stop() ends the schedule and drains the running ticks.
 */
@Injectable()
export class BackgroundTaskManager implements OnModuleInit, BeforeApplicationShutdown {
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
    private readonly explorer: ScheduledTaskExplorer,
    private readonly leases: TaskLeaseRepository,
    metrics: MetricsService,
  ) {
    this.metrics = new TaskMetrics(metrics);
  }

  /**
   * Nest creates every provider before any init hook runs, so all tasks are found here. Another module's own init
   * hook may run before this one: switching a task on or off belongs in onApplicationBootstrap or later.
   */
  onModuleInit(): void {
    for (const def of this.explorer.explore()) this.add(def);
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

  /** Starts or stops one task at run time: polling follows its setting without a restart. */
  setEnabled(name: string, enabled: boolean, reason?: string): void {
    const task = this.get(name);
    const changed = task.state.enabled !== enabled;
    task.state.enabled = enabled;
    if (reason !== undefined) task.state.reason = reason;
    if (!changed || !this.isStarted()) return;
    if (enabled) this.schedule(task);
    else this.unschedule(task);
  }

  /** Schedules every enabled task; call once the app listens. Idempotent. */
  start(): Promise<void> {
    if (this.started || this.stopping) return Promise.resolve();
    this.started = true;
    for (const task of this.tasks.values()) if (task.state.enabled) this.schedule(task);
    log.info('Background tasks started', { tasks: [...this.tasks.keys()] });
    return Promise.resolve();
  }

  /**
   * No new tick starts; in-flight ticks get up to timeoutMs (default SIMPLETUNER_SHUTDOWN_TIMEOUT) to finish,
   * after which they are abandoned with a WARNING. Never throws: shutdown must still exit 0.
   */
  async stop(timeoutMs = this.config.env.SIMPLETUNER_SHUTDOWN_TIMEOUT * 1000): Promise<void> {
    if (this.stopping) return this.drained;
    this.stopping = true;
    for (const task of this.tasks.values()) this.unschedule(task);
    this.drained = this.drain(timeoutMs);
    return this.drained;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /**
   * One tick of a task now, through the shared wrapper: a fresh CLS context and correlation id, no overlap with
   * the previous run, the lease for leader tasks, and every outcome recorded; an exception is logged and the
   * schedule goes on. The schedule calls it; so may the task's owner, to run a tick early (the queue's wake).
   */
  async runTick(name: string): Promise<void> {
    const task = this.get(name);
    if (!this.isStarted() || !task.state.enabled) return;
    if (task.inFlight) {
      task.state.skipped++;
      this.metrics.outcome(name, 'skipped');
      return;
    }
    await this.wrap(task, (ctx) => this.execute(task, ctx));
  }

  /**
   * One run of a task now, asked for by an operator (POST /api/cloud/background-tasks/:name/run), whether its
   * schedule is on or not: the same wrapper as a tick, and the same no-overlap rule — refused (409) while it runs
   * here, or while another instance's run of it is marked in task_leases; the run takes the task's lease, so a
   * leader task's schedule elsewhere skips its next firing. Answers with what the task returned.
   */
  async runNow(name: string): Promise<ManualRunResult> {
    const task = this.tasks.get(name);
    if (!task) throw new NotFoundError(`No background task named ${name}`, 'not_found', { task: name });
    if (this.stopping) throw new ConflictError('The service is shutting down', { task: name });
    if (task.inFlight) throw new ConflictError(`Background task ${name} is running`, { task: name });
    const staleSeconds = Math.max(MANUAL_RUN_STALE_SECONDS, task.def.leaseSeconds ?? 0);
    if (!(await this.leases.tryStartRun(name, this.instanceId, staleSeconds))) {
      throw new ConflictError(`Background task ${name} is running on another instance`, { task: name });
    }
    if (task.inFlight) {
      // A tick of its schedule started here meanwhile: the mark just taken is this instance's, give it back.
      await this.releaseRun(task);
      throw new ConflictError(`Background task ${name} is running`, { task: name });
    }
    let result: ManualRunResult | undefined;
    await this.wrap(task, async (ctx) => {
      task.state.running = true;
      try {
        const outcome = await this.measure(task.state, task.def.run, ctx);
        result = { task: name, started_at: ctx.startedAt.toISOString(), ...outcome };
      } finally {
        task.state.running = false;
        await this.releaseRun(task);
      }
    });
    return result!;
  }

  /** A fresh correlation id and log context, and the in-flight mark that keeps runs of the task from overlapping. */
  private async wrap(task: Task, body: (ctx: TickContext) => Promise<void>): Promise<void> {
    const name = task.state.name;
    const correlationId = generateCorrelationId();
    const ctx: TickContext = { taskName: name, tickId: correlationId, correlationId, startedAt: new Date() };
    const run = runWithCorrelationId(correlationId, () =>
      LogContext.run({ task: name, tick_id: correlationId }, () => body(ctx)),
    );
    task.inFlight = run;
    try {
      await run;
    } finally {
      task.inFlight = undefined;
    }
  }

  private async execute(task: Task, ctx: TickContext): Promise<void> {
    const s = task.state;
    s.running = true;
    try {
      if (s.leader && !(await this.winLease(task))) {
        s.not_leader++;
        this.metrics.outcome(s.name, 'not_leader');
        return;
      }
      await this.measure(s, task.def.run, ctx);
      if (s.leader) await this.releaseRun(task);
    } catch (err) {
      // Only the lease query can land here: count it as a failed run so an unreachable database shows.
      this.recordFailure(s, err);
    } finally {
      s.running = false;
    }
  }

  /** Clears this instance's running mark on the task's lease; a failure only delays another instance's run-now. */
  private async releaseRun(task: Task): Promise<void> {
    try {
      await this.leases.finishRun(task.state.name, this.instanceId);
    } catch (err) {
      log.warning(`Could not clear the running mark of background task ${task.state.name}`, { error: err });
    }
  }

  private async measure(s: TaskState, fn: TickFn, ctx: TickContext): Promise<RunOutcome> {
    const started = process.hrtime.bigint();
    s.last_started_at = ctx.startedAt.toISOString();
    let outcome: TickOutcome = 'success';
    let summary: unknown = null;
    try {
      summary = (await fn(ctx)) ?? null;
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
    return {
      outcome,
      duration_ms: s.last_duration_ms,
      error: outcome === 'failure' ? s.last_error : null,
      summary: outcome === 'success' ? summary : null,
    };
  }

  private recordFailure(s: TaskState, err: unknown): void {
    s.failures++;
    s.last_error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    this.metrics.outcome(s.name, 'failure');
    log.error(`Background task ${s.name} failed`, { task: s.name, error: err });
  }

  private winLease({ state, def }: Task): Promise<boolean> {
    return this.leases.tryAcquire(state.name, def.leaseSeconds ?? state.interval_seconds ?? 0, {
      holder: this.instanceId,
    });
  }

  private async drain(timeoutMs: number): Promise<void> {
    const busy = [...this.tasks.values()].filter((t) => t.inFlight !== undefined);
    if (busy.length === 0) return;
    log.info('Waiting for running background tasks to finish', {
      tasks: busy.map((t) => t.state.name),
      timeout_seconds: timeoutMs / 1000,
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const all = Promise.allSettled(busy.flatMap((t) => t.inFlight ?? [])).then(() => 'done' as const);
    const result = await Promise.race([all, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      const left = busy.filter((t) => t.inFlight !== undefined).map((t) => t.state.name);
      log.warning(`Abandoning background tasks still running after the shutdown timeout: ${left.join(', ')}`, {
        tasks: left,
        timeout_seconds: timeoutMs / 1000,
      });
    }
  }

  private add(def: TaskDefinition): void {
    const { name } = def.listing;
    if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(name)) throw new Error(`Invalid background task name: ${JSON.stringify(name)}`);
    if (this.tasks.has(name)) throw new Error(`Background task ${name} is already registered`);
    this.tasks.set(name, {
      def,
      state: {
        ...def.listing,
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
    });
  }

  private get(name: string): Task {
    const task = this.tasks.get(name);
    if (!task) throw new Error(`Unknown background task: ${name}`);
    return task;
  }

  private schedule(task: Task): void {
    const { def } = task;
    const name = task.state.name;
    const key = registryKey(name);
    const tick = () => void this.runTick(name);
    try {
      if ('everySeconds' in def.trigger) {
        if (this.registry.doesExist('interval', key)) return;
        this.registry.addInterval(key, setInterval(tick, def.trigger.everySeconds * 1000));
      } else {
        if (this.registry.doesExist('cron', key)) return;
        const { cron, timeZone } = def.trigger;
        this.registry.addCronJob(key, CronJob.from({ cronTime: cron, timeZone, onTick: tick, start: true }));
      }
    } catch (err) {
      task.state.last_error = `failed to start: ${err instanceof Error ? err.message : String(err)}`;
      if (def.onStartError) def.onStartError(err);
      else log.error(`Failed to start background task ${name}`, { task: name, error: err });
      return;
    }
    this.callHook(name, () => def.onStart?.({ ...task.state }));
  }

  private unschedule(task: Task): void {
    const key = registryKey(task.state.name);
    // The schedule module may already have cleared it in its own shutdown hook.
    if (this.registry.doesExist('interval', key)) this.registry.deleteInterval(key);
    else if (this.registry.doesExist('cron', key)) this.registry.deleteCronJob(key);
    else return;
    this.callHook(task.state.name, () => task.def.onStop?.({ ...task.state }));
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
