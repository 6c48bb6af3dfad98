import { Injectable } from '@nestjs/common';
import { AccessPolicy, AuthenticatedUser } from '../auth';
import {
  AppError,
  InvalidJobStateError,
  JobNotFoundError,
  PermissionDeniedError,
  ProviderError,
  ProviderUnavailableError,
  ValidationError,
} from '../common/errors';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import {
  DEFAULT_HARDWARE_PROFILE,
  isValidProfile,
  ProviderCallError,
  ProviderConfigService,
  ProviderRegistry,
} from '../providers';
import { CostEstimate, estimateCost } from './job-cost';
import { ACTIVE_STATUSES, isTerminal, TERMINAL_STATUSES } from '../common/job-status';
import { JobTransitionService } from './job-transition.service';
import { ArtifactsStep, type JobViewColumns, QueueStep } from './pipeline/steps';
import { Clock } from '../common/clock';
import { jobView, JobView } from './job-view';
import type { Job } from './job.entity';
import type { ListJobsQuery } from './jobs.dto';
import { JobsRepository } from './jobs.repository';
import { JobViewFilter, JobViewsRepository } from './job-views.repository';

const log = getLogger('simpletuner.cloud.jobs');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Maps a provider failure to the API's error: an open circuit is 503, anything else 502. */
export function providerApiError(err: unknown, what: string): AppError {
  if (err instanceof ProviderCallError && err.circuitOpen) {
    return new ProviderUnavailableError(`${what}: provider ${err.provider} is unavailable`, { provider: err.provider });
  }
  const provider = err instanceof ProviderCallError ? err.provider : undefined;
  return new ProviderError(`${what}: ${(err as Error).message}`.slice(0, 500), { provider });
}

/** Reading, cancelling and deleting jobs as the API's callers may (submission is SubmitPipeline). */
@Injectable()
export class JobsService {
  constructor(
    private readonly config: AppConfig,
    private readonly repo: JobsRepository,
    private readonly views: JobViewsRepository,
    private readonly registry: ProviderRegistry,
    private readonly configs: ProviderConfigService,
    private readonly queue: QueueStep,
    private readonly artifacts: ArtifactsStep,
    private readonly transitions: JobTransitionService,
    private readonly access: AccessPolicy,
    private readonly clock: Clock,
  ) {}

  /** What a job view shows from the queue's and the artifacts' tables, selected with the job (JobViewColumns). */
  private readonly viewColumns: JobViewColumns = {
    queue_position: (jobIdSql) => this.queue.positionColumn(jobIdSql),
    artifacts: (jobIdSql) => this.artifacts.viewsColumn(jobIdSql),
  };

  defaultProvider(): string {
    return this.registry.defaultName();
  }

  /** A job the caller may see (see AccessPolicy); anything else is 404. */
  async findVisible(user: AuthenticatedUser, jobId: string): Promise<Job> {
    const job = UUID.test(jobId) ? await this.repo.findOne({ jobId, ...this.access.scope(user) }) : null;
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  /** Acting on a visible job: the owner, a lead of its org, or an admin (a viewer only reads). */
  private assertCanAct(user: AuthenticatedUser, job: Job, action: string): void {
    if (!this.access.canAct(user, job)) throw new PermissionDeniedError(`You may not ${action} this job`);
  }

  /** A page of the jobs the caller may see, each with its queue position and artifacts, in one statement. */
  async list(user: AuthenticatedUser, q: ListJobsQuery): Promise<{ jobs: JobView[]; total: number }> {
    const [rows, total] = await this.views.list(
      { ...this.viewScope(user), status: q.status, provider: q.provider },
      q.limit ?? 50,
      q.offset ?? 0,
      this.viewColumns,
    );
    const now = this.clock.now();
    return { jobs: rows.map((r) => jobView(r.job, r.queuePosition, now, r.artifacts)), total };
  }

  /** A job the caller may see, with its queue position and artifacts, in one statement (anything else is 404). */
  async get(user: AuthenticatedUser, jobId: string): Promise<JobView> {
    const filter = { job_id: jobId, ...this.viewScope(user) };
    const row = UUID.test(jobId) ? await this.views.findView(filter, this.viewColumns) : null;
    if (!row) throw new JobNotFoundError(jobId);
    return jobView(row.job, row.queuePosition, this.clock.now(), row.artifacts);
  }

  /** The jobs the caller may see (AccessPolicy's scope) as a filter on the view's columns. */
  private viewScope(user: AuthenticatedUser): JobViewFilter {
    const scope = this.access.scope(user);
    return { user_id: scope.userId, org_id: scope.orgId };
  }

  /** Cancels at the provider first (a failure leaves the job unchanged, 502), then through the transition function. */
  async cancel(user: AuthenticatedUser, jobId: string): Promise<JobView> {
    const job = await this.findVisible(user, jobId);
    this.assertCanAct(user, job, 'cancel');
    const active = [...ACTIVE_STATUSES];
    if (isTerminal(job.status)) {
      throw new InvalidJobStateError(jobId, job.status, active, `Job ${jobId} is already ${job.status}`);
    }
    if (job.externalId) {
      try {
        await this.registry.get(job.provider).cancel(job.externalId);
      } catch (err) {
        log.warning('Cancel at provider failed; job unchanged', { job_id: jobId, provider: job.provider, error: err });
        throw providerApiError(err, 'Cancel failed at the provider');
      }
    }
    const result = await this.transitions.transition(jobId, 'cancelled', {
      source: 'cancel',
      patch: job.externalId ? {} : { cancelRequestedAt: this.clock.now() },
    });
    if (!result.changed && isTerminal(result.job.status) && result.previous !== 'cancelled') {
      // It finished while we were cancelling: report the state it ended in.
      throw new InvalidJobStateError(jobId, result.job.status, active);
    }
    log.info('Job cancelled', { job_id: jobId, provider: job.provider, previous_status: result.previous });
    return this.get(user, jobId);
  }

  async remove(user: AuthenticatedUser, jobId: string): Promise<{ job_id: string; deleted: true }> {
    const job = await this.findVisible(user, jobId);
    this.assertCanAct(user, job, 'delete');
    if (!(await this.repo.deleteFinished(jobId))) {
      const current = await this.repo.findOne({ jobId });
      if (!current) throw new JobNotFoundError(jobId);
      throw new InvalidJobStateError(
        jobId,
        current.status,
        [...TERMINAL_STATUSES],
        `Only a finished job can be deleted; job ${jobId} is ${current.status}`,
      );
    }
    await this.artifacts.jobsDeleted([jobId]); // its stored outputs (their rows went with the job)
    log.info('Job deleted', { job_id: jobId });
    return { job_id: jobId, deleted: true };
  }

  async costEstimate(user: AuthenticatedUser, profile = DEFAULT_HARDWARE_PROFILE): Promise<CostEstimate> {
    if (!isValidProfile(profile))
      throw new ValidationError(`Unknown hardware profile ${profile}`, { hardware_profile: 'unknown profile' });
    const overrides = (await this.configs.get(this.defaultProvider())).hardwareInfo ?? {};
    return estimateCost(await this.repo.completedRunStats(user.orgId, profile), profile, undefined, overrides);
  }
}
