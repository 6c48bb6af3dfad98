/** What a tick body receives: its task, its id and the correlation id its own log lines carry. */
export interface TickContext {
  taskName: string;
  /** Equal to correlationId: a job line's `extra.tick_id` leads straight to the tick's own lines. */
  tickId: string;
  correlationId: string;
  startedAt: Date;
}

export type TickFn = (ctx: TickContext) => Promise<unknown>;

/** Hooks through which a task's owner logs its own start and stop lines (e.g. `Starting job status polling`). */
export interface TaskHooks {
  /** Called when the task gets scheduled (at start, or when enabled at run time). */
  onStart?: (state: TaskState) => void;
  /** Called when scheduling the task failed. */
  onStartError?: (err: unknown) => void;
  /** Called when the task is unscheduled at run time (disabled) or at shutdown. */
  onStop?: (state: TaskState) => void;
}

/** A task as discovered from its decorator, ready for the manager to schedule. */
export interface TaskDefinition extends TaskHooks {
  /** When it fires: every so many seconds, or on a cron expression. */
  trigger: { everySeconds: number } | { cron: string; timeZone?: string };
  /** How it is listed before its first run. */
  listing: Pick<TaskState, 'name' | 'kind' | 'interval_seconds' | 'schedule' | 'enabled' | 'reason' | 'leader'>;
  /** A leader task's lease length when it is not the interval (a cron task's). */
  leaseSeconds?: number;
  run: TickFn;
}

/** One task as GET /api/cloud/background-tasks shows it. */
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
