import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { CronTime } from 'cron';
import { AppConfig } from '../config';
import { ScheduledTask, ScheduledTaskMetadata } from '../common/scheduled-task.decorators';
import type { TaskDefinition, TickFn } from '../common/scheduled-task.types';

type Instance = Record<string, unknown>;

/**
 * Finds every @Interval/@Cron method on the app's providers, so that an enterprise module's tasks join the same
 * schedule, listing and shutdown drain as core ones without any registration call.
 */
@Injectable()
export class ScheduledTaskExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly config: AppConfig,
  ) {}

  explore(): TaskDefinition[] {
    const found: TaskDefinition[] = [];
    const seen = new Set<unknown>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
        const meta = this.discovery.getMetadataByDecorator(ScheduledTask, wrapper, method);
        if (!meta) continue;
        // A request-scoped provider has no instance to tick; Nest hands discovery a placeholder for it.
        if (!wrapper.isDependencyTreeStatic()) {
          throw new Error(`Background task ${meta.name}: ${wrapper.name} must be a singleton provider`);
        }
        found.push(this.define(meta, instance as Instance, method));
      }
    }
    return found;
  }

  private define(meta: ScheduledTaskMetadata, instance: Instance, method: string): TaskDefinition {
    const body = instance[method] as (ctx: unknown) => unknown;
    const run: TickFn = (ctx) => Promise.resolve(body.call(instance, ctx));
    if (meta.type === 'cron') {
      // Throws on a bad expression or zone: at boot, not at the first tick hours later.
      new CronTime(meta.expression, meta.timeZone);
      return {
        trigger: { cron: meta.expression, timeZone: meta.timeZone },
        listing: {
          name: meta.name,
          kind: 'declared',
          interval_seconds: null,
          schedule: `cron ${meta.expression}${meta.timeZone ? ` (${meta.timeZone})` : ''}`,
          enabled: true,
          reason: null,
          leader: meta.leaderLeaseSeconds !== undefined,
        },
        leaseSeconds: meta.leaderLeaseSeconds,
        run,
      };
    }
    const { leader = false, enabled = true, reason = null, onStart, onStartError, onStop } = meta.options;
    const seconds = typeof meta.every === 'function' ? meta.every(this.config) : meta.every;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
      throw new Error(`Background task ${meta.name}: interval must be a positive number of seconds, got ${seconds}`);
    }
    // The listing has always shown interval_seconds (and kind `interval`) for a period from configuration and
    // for a leader's lease length; a fixed period of a local task shows in `schedule` only.
    const listed = typeof meta.every === 'function' || leader;
    return {
      trigger: { everySeconds: seconds },
      listing: {
        name: meta.name,
        kind: listed ? 'interval' : 'declared',
        interval_seconds: listed ? seconds : null,
        schedule: `every ${seconds}s`,
        enabled,
        reason,
        leader,
      },
      run,
      onStart,
      onStartError,
      onStop,
    };
  }
}
