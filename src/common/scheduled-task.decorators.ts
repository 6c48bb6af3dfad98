import { DiscoveryService } from '@nestjs/core';
import type { AppConfig } from '../config';
import type { TaskHooks, TickContext } from './scheduled-task.types';

/**
 * Seconds between ticks: a number, or a function of the configuration, read once when the app starts, so the
 * usual precedence (env > enterprise file > default) applies to the task's period.
 */
export type IntervalSeconds = number | ((config: AppConfig) => number);

export interface IntervalTaskOptions extends TaskHooks {
  /** Run once per interval across all instances (lease row in task_leases); the interval is the lease length. */
  leader?: boolean;
  /** False: listed but not scheduled until its owner calls BackgroundTaskManager.setEnabled (default true). */
  enabled?: boolean;
  /** Why the task is on or off, shown in the listing, e.g. `auto: no webhook configured`. */
  reason?: string;
}

export interface CronTaskOptions {
  name: string;
  /** IANA zone the expression is read in; the host's zone without it. */
  timeZone?: string;
  /**
   * Run once per firing across all instances: the first instance to take the lease (task_leases) for this many
   * seconds runs it, the others skip that firing.
   */
  leaderLeaseSeconds?: number;
}

export type ScheduledTaskMetadata =
  | { type: 'interval'; name: string; every: IntervalSeconds; options: IntervalTaskOptions }
  | { type: 'cron'; name: string; expression: string; timeZone?: string; leaderLeaseSeconds?: number };

/** A method that can be a tick: it gets the tick's context and may return a promise the manager waits for. */
type TickMethod = (ctx: TickContext) => unknown;
type TaskDecorator = <T extends TickMethod>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<T>,
) => void;

/** The metadata the manager discovers at bootstrap on every provider's methods. */
export const ScheduledTask = DiscoveryService.createDecorator<ScheduledTaskMetadata>();

/**
 * Runs the method every `every` seconds (not milliseconds: configuration speaks in seconds) through the shared
 * tick wrapper: its own correlation id, no overlap with the previous run, metrics, the lease for leader tasks,
 * and a place in GET /api/cloud/background-tasks.
 *
 * @example @Interval(QUEUE_TASK, (config) => config.enterprise.queueProcessingInterval, { onStart: ... })
 */
export function Interval(name: string, every: IntervalSeconds, options: IntervalTaskOptions = {}): TaskDecorator {
  return ScheduledTask({ type: 'interval', name, every, options });
}

/**
 * Runs the method on a cron expression through the same tick wrapper as {@link Interval}.
 *
 * @example @Cron('0 0 * * *', { name: LOG_DAILY_ROTATION_TASK, timeZone: 'UTC' })
 */
export function Cron(expression: string, options: CronTaskOptions): TaskDecorator {
  const { name, timeZone, leaderLeaseSeconds } = options;
  return ScheduledTask({ type: 'cron', name, expression, timeZone, leaderLeaseSeconds });
}
