import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { forEachLimit } from '../common/concurrency';
import { AppConfig } from '../config';
import { JobRecordsService, JobStateApplier, type Job, type PlannedChange } from '../jobs';
import { getLogger } from '../logging';
import { ProviderRegistry, type ProviderJobState } from '../providers';
import { BackgroundTaskManager } from '../scheduling';
import { JobLogHub } from './job-log-hub';
import { JobLogsMetrics } from './job-logs.metrics';
import { JobLogsRepository } from './job-logs.repository';

const log = getLogger('simpletuner.cloud.job_logs');

/** Provider fetches in flight at once during a follow tick. */
const FETCH_CONCURRENCY = 8;

export interface FollowSummary {
  followed: number;
  fetched: number;
  failed: number;
}

/**
 * Log follow: while somebody streams a running job's log, the job is fetched from the provider every
 * SIMPLETUNER_LOG_FOLLOW_INTERVAL seconds, once across all watchers and instances. Each instance keeps a row per
 * job it streams in `followed_jobs` (renewed by its watchers task, removed when its last stream of the job ends);
 * the single-leader follow task fetches every job some instance renewed recently, and the answer goes the way of a
 * poll (its log appended, its status applied).
 */
@Injectable()
export class LogFollowService implements OnModuleInit, BeforeApplicationShutdown {
  private syncing = false;
  private again = false;
  private idle: Promise<void> = Promise.resolve();
  private registered = 0;

  constructor(
    private readonly hub: JobLogHub,
    private readonly repo: JobLogsRepository,
    private readonly records: JobRecordsService,
    private readonly registry: ProviderRegistry,
    private readonly applier: JobStateApplier,
    private readonly tasks: BackgroundTaskManager,
    private readonly metrics: JobLogsMetrics,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.hub.onWatchersChanged(() => void this.syncWatchers());
  }

  /** This instance's rows go with it (another instance would otherwise follow them until they go stale). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.idle;
    if (this.registered > 0) await this.repo.forgetInstance(this.tasks.instanceId).catch(() => undefined);
  }

  /** A row older than this belongs to an instance that stopped renewing it (it died): it no longer counts. */
  get freshSeconds(): number {
    return Math.max(3 * this.config.env.SIMPLETUNER_LOG_FOLLOW_INTERVAL, 15);
  }

  /**
   * Writes this instance's watched jobs (renewing their heartbeat) and removes the rows of jobs it no longer
   * watches. Coalesced: changes during a write are written by one more write after it.
   */
  syncWatchers(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.idle;
    }
    this.syncing = true;
    this.idle = (async () => {
      try {
        do {
          this.again = false;
          const watched = this.hub.watched();
          if (watched.size === 0 && this.registered === 0) continue;
          await this.repo.syncFollowers(this.tasks.instanceId, watched);
          this.registered = watched.size;
        } while (this.again);
      } catch (error) {
        log.warning('Recording the followed job logs failed; the watchers task retries', { error });
      } finally {
        this.syncing = false;
      }
    })();
    return this.idle;
  }

  /**
   * One follow tick: every followed running job fetched once (bounded concurrency), then handled as a poll's
   * answers are: their log text stored in one append, their status changes written in one batch.
   */
  async followTick(now: Date): Promise<FollowSummary> {
    const ids = await this.repo.followedJobs(this.freshSeconds);
    const summary: FollowSummary = { followed: 0, fetched: 0, failed: 0 };
    if (ids.length === 0) return summary;
    const jobs = (await this.records.read(ids)).filter(
      (j) => j.status === 'running' && j.externalId && this.registry.has(j.provider),
    );
    summary.followed = jobs.length;
    const answers: { job: Job; state: ProviderJobState | null }[] = [];
    await forEachLimit(jobs, FETCH_CONCURRENCY, async (job) => {
      try {
        answers.push({ job, state: await this.registry.get(job.provider).get(job.externalId!) });
        this.metrics.fetched('ok');
        summary.fetched++;
      } catch (error) {
        this.metrics.fetched('failed');
        summary.failed++;
        log.warning(`Following the log of job ${job.jobId} failed`, { job_id: job.jobId, error });
      }
    });
    await this.applier.recordLogs(answers);
    await this.applyStatuses(answers, now);
    return summary;
  }

  private async applyStatuses(answers: { job: Job; state: ProviderJobState | null }[], now: Date): Promise<void> {
    const rates = new Map<string, Record<string, unknown>>();
    const changes: { job: Job; change: PlannedChange }[] = [];
    for (const { job, state } of answers) {
      if (!rates.has(job.provider)) rates.set(job.provider, await this.applier.ratesFor(job.provider));
      const change = this.applier.plan(job, state, rates.get(job.provider));
      if (change) changes.push({ job, change });
    }
    if (changes.length === 0) return;
    try {
      await this.applier.applyMany(changes, 'log_follow', now);
    } catch (error) {
      // The next follow tick or poll reports the same status again.
      log.warning(`Applying the status of ${changes.length} followed jobs failed`, { error });
    }
  }
}
