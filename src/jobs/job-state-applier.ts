import { Injectable } from '@nestjs/common';
import { getLogger } from '../logging';
import { hardwareRate, ProviderConfigService, roundUsd, type ProviderJobState } from '../providers';
import { isTerminal, JobStatus } from '../common/job-status';
import type { JobScope } from './job-scope';
import { JobPatch, JobTransitionService, TransitionResult } from './job-transition.service';
import type { Job } from './job.entity';
import { JobLogReport, JobLogsStep } from './pipeline/steps';

const log = getLogger('simpletuner.cloud.jobs');

export interface PlannedChange {
  to: JobStatus;
  patch: JobPatch;
}

function differs(job: Job, patch: JobPatch): boolean {
  return Object.entries(patch).some(([k, v]) => {
    const cur = (job as unknown as Record<string, unknown>)[k];
    if (cur instanceof Date && v instanceof Date) return cur.getTime() !== v.getTime();
    if (Array.isArray(v)) return JSON.stringify(cur) !== JSON.stringify(v);
    return cur !== v;
  });
}

/** Turns what a provider reports (poll, webhook, simulator, reconcile) into one call of the transition function. */
@Injectable()
export class JobStateApplier {
  constructor(
    private readonly transitions: JobTransitionService,
    private readonly configs: ProviderConfigService,
    private readonly logs: JobLogsStep,
  ) {}

  /**
   * Stores the log text these reports carry, before their statuses are applied (a report that ends a job is
   * redacted with the job's secrets while they still exist). In a transaction of its own: a failure is logged and
   * never holds back the status.
   */
  async recordLogs(reports: { job: Job; state: ProviderJobState | null }[]): Promise<void> {
    const withLogs: JobLogReport[] = [];
    for (const { job, state } of reports) {
      if (!state?.logs || isTerminal(job.status)) continue;
      withLogs.push({ job, logs: state.logs, final: state.status !== null && isTerminal(state.status) });
    }
    if (withLogs.length === 0) return;
    try {
      await this.logs.record(withLogs);
    } catch (error) {
      log.warning(`Storing the provider's log of ${withLogs.length} jobs failed`, { error });
    }
  }

  /** Price overrides per provider, read once per batch. */
  async ratesFor(provider: string): Promise<Record<string, unknown>> {
    return (await this.configs.get(provider)).hardwareInfo ?? {};
  }

  /**
   * What to write for this report, or null when nothing would change (so a poll writes only changes).
   * `null` state = the provider no longer knows the prediction: the job fails with a clear message.
   */
  plan(job: Job, state: ProviderJobState | null, overrides: Record<string, unknown> = {}): PlannedChange | null {
    if (state === null) {
      return {
        to: 'failed',
        patch: { errorMessage: `Prediction ${job.externalId} no longer exists at ${job.provider}` },
      };
    }
    if (state.status === null) {
      log.warning(`Unknown provider status ${JSON.stringify(state.rawStatus).slice(0, 64)}; keeping ${job.status}`, {
        job_id: job.jobId,
        provider_status: state.rawStatus.slice(0, 64),
      });
      return null;
    }
    const patch: JobPatch = {};
    if (!job.externalId) patch.externalId = state.externalId;
    if (state.error) patch.errorMessage = state.error.slice(0, 2000);
    if (state.outputUrl) patch.outputUrl = state.outputUrl;
    // The files of a finished run (a provider may show partial outputs while it runs).
    if (state.status === 'completed' && state.outputUrls?.length) patch.outputUrls = state.outputUrls;
    if (state.logsUrl) patch.logsUrl = state.logsUrl;
    if (state.startedAt && !job.startedAt) patch.startedAt = state.startedAt;
    if (state.completedAt && isTerminal(state.status)) patch.completedAt = state.completedAt;
    if (typeof state.predictTimeSeconds === 'number') {
      try {
        patch.costUsd = roundUsd(state.predictTimeSeconds * hardwareRate(job.hardwareProfile, overrides));
      } catch {
        // Unknown profile (a provider added by an enterprise module): no price.
      }
    }
    if (state.status === job.status && !differs(job, patch)) return null;
    return { to: state.status, patch };
  }

  /** A planned change through the transition function, in the current transaction (or one of its own). */
  applyChange(job: Job, change: PlannedChange, source: string, now: Date): Promise<TransitionResult> {
    return this.transitions.transition(job.jobId, change.to, { patch: change.patch, source, now });
  }

  /** Many planned changes through one batched transition (one job id once each), in one transaction. */
  applyMany(
    changes: { job: Job; change: PlannedChange }[],
    source: string,
    now: Date,
    scope?: JobScope,
  ): Promise<TransitionResult[]> {
    return this.transitions.transitionMany(
      changes.map(({ job, change }) => ({ jobId: job.jobId, to: change.to, patch: change.patch })),
      { source, now, scope },
    );
  }

  /** plan + transition in a transaction of its own; null when nothing needed writing. */
  async apply(
    job: Job,
    state: ProviderJobState | null,
    source: string,
    now: Date,
    overrides?: Record<string, unknown>,
  ): Promise<TransitionResult | null> {
    const change = this.plan(job, state, overrides ?? (await this.ratesFor(job.provider)));
    if (!change) return null;
    return this.applyChange(job, change, source, now);
  }
}
