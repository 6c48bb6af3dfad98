/** What a tick body receives: its task, its id and the correlation id its own log lines carry. */
export interface TickContext {
  taskName: string;
  /** Equal to correlationId: a job line's `extra.tick_id` leads straight to the tick's own lines. */
  tickId: string;
  correlationId: string;
  startedAt: Date;
}

export type TickFn = (ctx: TickContext) => Promise<unknown>;

/** An interval task whose period comes from configuration (scheduled through SchedulerRegistry). */
export interface IntervalTaskDef {
  name: string;
  /** Seconds between ticks. Config enforces ≥ 1 s; test registrations may use fractions. */
  intervalSeconds: number;
  enabled?: boolean;
  /** Why the task is (not) enabled, e.g. `auto: no webhook configured`. */
  reason?: string;
  /** Run once per interval across all instances (lease row in task_leases). */
  leader?: boolean;
  run: TickFn;
  /** Called when the task gets scheduled (at start, or when enabled at run time): the owner logs its start line. */
  onStart?: (state: TaskState) => void;
  /** Called when scheduling the task failed (the owner logs e.g. `Failed to start queue processing`). */
  onStartError?: (err: unknown) => void;
  /** Called when the task is unscheduled at run time (disabled) or at shutdown. */
  onStop?: (state: TaskState) => void;
}

/** A task scheduled by an @Interval/@Cron decorator that calls runTick itself. */
export interface DeclaredTaskDef {
  name: string;
  /** Human-readable schedule, e.g. `cron 0 0 * * *` or `every 60s`. */
  schedule: string;
  leader?: boolean;
  /** Needed for leader tasks: the lease length. */
  intervalSeconds?: number;
}

/** One task as GET /api/cloud/background-tasks shows it (SPEC §10). */
export interface TaskState {
  name: string;
  kind: 'interval' | 'declared';
  interval_seconds: number | null;
  schedule: string;
  enabled: boolean;
  reason: string | null;
  leader: boolean;
  running: boolean;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_duration_ms: number | null;
  last_error: string | null;
  /** Executions of the body (successes + failures). */
  runs: number;
  failures: number;
  /** Ticks dropped because the previous run was still going. */
  skipped: number;
  /** Ticks another instance held the lease for (leader tasks only). */
  not_leader: number;
}

export type TickOutcome = 'success' | 'failure' | 'skipped' | 'not_leader';
