import { Injectable } from '@nestjs/common';
import { generateCorrelationId, peekCorrelationId, runWithCorrelationId } from '../context';
import { forEachLimit } from '../common/concurrency';
import { getLogger } from '../logging';
import { ProviderRegistry, type ProviderJobState, type TrainingProvider } from '../providers';
import { inJobScope, type JobScope } from './job-scope';
import { Clock } from '../common/clock';

import { JobStateApplier, PlannedChange } from './job-state-applier';
import type { Job } from './job.entity';
import { JobsRepository } from './jobs.repository';

const log = getLogger('simpletuner.cloud.jobs.polling');

export interface SyncTick {
  tickId: string;
  correlationId: string;
}

export interface SyncSummary {
  synced: number;
  changed: number;
  failed: number;
  timedOut: number;
}

/** Job status polling: every active dispatched job of every provider, in few provider calls. */
@Injectable()
export class JobSyncService {
  /** Write batches in flight at once during a tick. */
  applyConcurrency = 2;
  /** Job changes written per transaction. */
  batchSize = 25;
  /** Single gets at once for providers without syncMany. */
  getConcurrency = 8;

  constructor(
    private readonly repo: JobsRepository,
    private readonly registry: ProviderRegistry,
    private readonly applier: JobStateApplier,
    private readonly clock: Clock,
  ) {}

  /** One tick. `providers` limits it (the simulator driver syncs only simulator jobs). Never throws. */
  syncActiveJobs(
    now: Date = this.clock.now(),
    opts: { tick?: SyncTick; providers?: string[] } = {},
  ): Promise<SyncSummary> {
    const correlationId = opts.tick?.correlationId ?? peekCorrelationId() ?? generateCorrelationId();
    const tick = opts.tick ?? { tickId: correlationId, correlationId };
    return runWithCorrelationId(correlationId, () => this.runTick(now, tick, opts.providers));
  }

  private async runTick(now: Date, tick: SyncTick, only?: string[]): Promise<SyncSummary> {
    const summary: SyncSummary = { synced: 0, changed: 0, failed: 0, timedOut: 0 };
    try {
      const jobs = await this.repo.activeAtProviders(only);
      const byProvider = new Map<string, Job[]>();
      for (const job of jobs) {
        const group = byProvider.get(job.provider);
        if (group) group.push(job);
        else byProvider.set(job.provider, [job]);
      }
      for (const [name, group] of byProvider) {
        if (!this.registry.has(name)) {
          log.warning(`No provider ${name} registered for ${group.length} active jobs`, { provider: name });
          continue;
        }
        await this.syncProvider(this.registry.get(name), group, now, tick, summary);
      }
      log.debug(`Synced ${summary.synced} active jobs`, { ...summary });
    } catch (err) {
      log.error('Error in job polling', { error: err });
    }
    return summary;
  }

  private async syncProvider(
    provider: TrainingProvider,
    jobs: Job[],
    now: Date,
    tick: SyncTick,
    summary: SyncSummary,
  ): Promise<void> {
    const overrides = await this.applier.ratesFor(provider.name);
    const overdue = jobs.filter((j) => this.isOverdue(j, now));
    const current = jobs.filter((j) => !this.isOverdue(j, now));
    let states: Map<string, ProviderJobState | null>;
    try {
      states = await this.fetchStates(provider, current);
    } catch (err) {
      log.error('Error in job polling', { error: err, provider: provider.name, jobs: current.length });
      states = new Map();
    }
    await this.applier.recordLogs(
      current
        .filter((j) => states.has(j.externalId!))
        .map((job) => ({ job, state: states.get(job.externalId!) ?? null })),
    );
    // Plan in memory first (writes only changes), then write in small batches: one commit and one batched
    // transition per batch, each job's log line under its own scope.
    const changes: { job: Job; change: PlannedChange }[] = [];
    for (const job of current) {
      inJobScope(job, JobSyncService.scope(tick, 'poll'), () => {
        if (!states.has(job.externalId!)) {
          summary.failed++;
          log.warning(`Failed to sync job ${job.jobId}`, { reason: 'no answer from provider' });
          return;
        }
        summary.synced++;
        const change = this.applier.plan(job, states.get(job.externalId!) ?? null, overrides);
        if (change) changes.push({ job, change });
      });
    }
    const batches: (typeof changes)[] = [];
    for (let i = 0; i < changes.length; i += this.batchSize) batches.push(changes.slice(i, i + this.batchSize));
    await forEachLimit(batches, this.applyConcurrency, (batch) => this.applyBatch(batch, now, tick, summary));
    await forEachLimit(overdue, this.applyConcurrency, (job) =>
      inJobScope(job, JobSyncService.scope(tick, 'timeout'), () => this.expire(provider, job, now, summary)),
    );
  }

  private async applyBatch(
    batch: { job: Job; change: PlannedChange }[],
    now: Date,
    tick: SyncTick,
    summary: SyncSummary,
  ): Promise<void> {
    try {
      const results = await this.applier.applyMany(batch, 'poll', now, JobSyncService.scope(tick, 'poll'));
      summary.changed += results.filter((r) => r.changed).length;
    } catch {
      // One bad job must not hold back the others: redo this batch one job per transaction.
      for (const { job, change } of batch) {
        await inJobScope(job, JobSyncService.scope(tick, 'poll'), async () => {
          try {
            const r = await this.applier.applyChange(job, change, 'poll', now);
            if (r.changed) summary.changed++;
          } catch (err) {
            summary.synced--;
            summary.failed++;
            log.warning(`Failed to sync job ${job.jobId}`, { error: err });
          }
        });
      }
    }
  }

  private async fetchStates(provider: TrainingProvider, jobs: Job[]): Promise<Map<string, ProviderJobState | null>> {
    if (jobs.length === 0) return new Map();
    if (provider.syncMany) return provider.syncMany(jobs);
    const states = new Map<string, ProviderJobState | null>();
    await forEachLimit(jobs, this.getConcurrency, async (job) => {
      try {
        states.set(job.externalId!, await provider.get(job.externalId!));
      } catch (err) {
        log.debug('Provider get failed', { job_id: job.jobId, error: err });
      }
    });
    return states;
  }

  private isOverdue(job: Job, now: Date): boolean {
    const since = (job.startedAt ?? job.createdAt).getTime();
    return now.getTime() - since > job.maxRuntimeSeconds * 1000;
  }

  /** Past max_runtime_seconds: cancel at the provider, then fail. A failed cancel is retried next tick. */
  private async expire(provider: TrainingProvider, job: Job, now: Date, summary: SyncSummary): Promise<void> {
    try {
      await provider.cancel(job.externalId!);
    } catch (err) {
      summary.failed++;
      log.warning(`Failed to sync job ${job.jobId}`, { error: err, reason: 'cancel after max runtime failed' });
      return;
    }
    const change = { to: 'failed' as const, patch: { errorMessage: 'Exceeded max runtime' } };
    const result = await this.applier.applyChange(job, change, 'timeout', now);
    if (result.changed) {
      summary.timedOut++;
      log.warning('Job exceeded its max runtime: cancelled at the provider and failed', {
        max_runtime_seconds: job.maxRuntimeSeconds,
      });
    }
  }

  private static scope(tick: SyncTick, step: string): JobScope {
    return { step, tickId: tick.tickId, fallbackCorrelationId: tick.correlationId };
  }
}
