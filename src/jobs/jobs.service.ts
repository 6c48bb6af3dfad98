import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOptionsWhere } from 'typeorm';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import {
  AppError,
  ConflictError,
  InvalidJobStateError,
  JobNotFoundError,
  PermissionDeniedError,
  ProviderError,
  ProviderUnavailableError,
  ValidationError,
} from '../common/errors';
import { AppConfig } from '../config';
import { getCorrelationId } from '../context';
import { getLogger } from '../logging';
import { DEFAULT_HARDWARE_PROFILE, isValidProfile } from '../providers/hardware';
import { ProviderConfigService } from '../providers/provider-config.service';
import { ProviderRegistry } from '../providers/provider-registry';
import { ProviderCallError } from '../providers/provider.interface';
import { CostEstimate, estimateCost } from './job-cost';
import { JobDispatchService } from './job-dispatch.service';
import { JobEventPublisher } from './job-events';
import { IdempotencyKey, keyReusedError } from './idempotency';
import { JobHooks, SubmitContext } from './job-hooks';
import { isTerminal, TERMINAL_STATUSES } from './job-status';
import { JobTransitionService } from './job-transition.service';
import { jobView, JobView } from './job-view';
import { Job } from './job.entity';
import type { ListJobsQuery, SubmitJobDto } from './jobs.dto';

const log = getLogger('simpletuner.cloud.jobs');

/** SPEC §6 default priorities by level; a researcher may not ask for more than its default. */
export const LEVEL_PRIORITY = { admin: 30, lead: 20, researcher: 10, viewer: 0 } as const;
const IDEMPOTENCY_HOURS = 24;
/** A job's runtime limit when the submission names none: a day. */
const DEFAULT_MAX_RUNTIME_SECONDS = 86_400;

export interface SubmitResult {
  created: boolean;
  body: {
    job_id: string;
    status: string;
    requires_approval: boolean;
    approval_id?: string;
    cost_estimate: number;
    queue_position: number | null;
    idempotent_hit?: true;
  };
}

/** Raised inside the submit transaction when another submit holds the key: the transaction rolls back. */
class IdempotentHit extends Error {
  constructor(
    readonly jobId: string,
    readonly requestHash: string,
  ) {
    super('idempotent hit');
  }
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Maps a provider failure to the API's error (SPEC §11): an open circuit is 503, anything else 502. */
export function providerApiError(err: unknown, what: string): AppError {
  if (err instanceof ProviderCallError && err.circuitOpen) {
    return new ProviderUnavailableError(`${what}: provider ${err.provider} is unavailable`, { provider: err.provider });
  }
  const provider = err instanceof ProviderCallError ? err.provider : undefined;
  return new ProviderError(`${what}: ${(err as Error).message}`.slice(0, 500), { provider });
}

@Injectable()
export class JobsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly registry: ProviderRegistry,
    private readonly configs: ProviderConfigService,
    private readonly hooks: JobHooks,
    private readonly transitions: JobTransitionService,
    private readonly dispatcher: JobDispatchService,
    private readonly events: JobEventPublisher,
  ) {}

  defaultProvider(): string {
    return this.config.env.REPLICATE_API_TOKEN ? 'replicate' : 'simulator';
  }

  async submit(
    user: AuthenticatedUser,
    dto: SubmitJobDto,
    idempotency: IdempotencyKey | null = dto.idempotency_key ? { key: dto.idempotency_key, source: 'body' } : null,
  ): Promise<SubmitResult> {
    const levelDefault = LEVEL_PRIORITY[user.level];
    if (dto.priority !== undefined && user.level !== 'admin' && user.level !== 'lead' && dto.priority > levelDefault) {
      throw new PermissionDeniedError(`Priority above ${levelDefault} needs a lead or admin`, {
        max_priority: levelDefault,
      });
    }
    const providerName = dto.provider ?? this.defaultProvider();
    if (!this.registry.has(providerName)) {
      throw new ValidationError(`Unknown provider ${providerName}`, {
        provider: `must be one of ${this.registry
          .list()
          .map((p) => p.name)
          .join(', ')}`,
      });
    }
    const provider = this.registry.get(providerName);
    if (provider.isConfigured && !provider.isConfigured()) {
      throw new ValidationError(`Provider ${providerName} is not configured`, {
        provider: 'not configured (missing credentials)',
      });
    }
    const profile = dto.hardware_profile ?? DEFAULT_HARDWARE_PROFILE;
    if (!isValidProfile(profile))
      throw new ValidationError(`Unknown hardware profile ${profile}`, { hardware_profile: 'unknown profile' });
    const priority = dto.priority ?? levelDefault;
    const requestHash = createHash('sha256')
      .update(
        stableJson({
          c: dto.config_name,
          cfg: dto.config,
          p: providerName,
          h: profile,
          pr: priority,
          rt: dto.max_runtime_seconds ?? null,
        }),
      )
      .digest('hex');

    if (idempotency) {
      const hit = await this.findIdempotent(this.db.manager, user.id, idempotency.key);
      if (hit) return this.idempotentResult(user, hit.jobId, hit.requestHash, requestHash, idempotency.source);
    }
    const overrides = (await this.configs.get(providerName)).hardwareInfo ?? {};
    const estimate = await estimateCost(
      this.db.manager,
      user.orgId,
      profile,
      dto.config,
      overrides,
      dto.max_runtime_seconds ?? DEFAULT_MAX_RUNTIME_SECONDS,
    );

    let job: Job;
    let ctx: SubmitContext;
    try {
      ({ job, ctx } = await this.db.transaction(async (m) => {
        const inserted = await m.getRepository(Job).save(
          m.getRepository(Job).create({
            userId: user.id,
            orgId: user.orgId,
            provider: providerName,
            status: 'pending',
            configName: dto.config_name,
            config: dto.config,
            hardwareProfile: profile,
            priority,
            costEstimate: estimate.estimated_cost,
            correlationId: getCorrelationId(),
            maxRuntimeSeconds: dto.max_runtime_seconds ?? DEFAULT_MAX_RUNTIME_SECONDS,
            idempotencyKey: idempotency?.key ?? null,
            requestHash,
            metadata: {},
          }),
        );
        if (idempotency) await this.claimKey(m, user.id, idempotency.key, inserted.jobId, requestHash);
        const result = await this.hooks.runSubmitHooks(m, inserted, {
          user,
          requiresApproval: false,
          costEstimate: estimate.estimated_cost,
          dispatchedByQueue: false,
        });
        if (result.requiresApproval) {
          inserted.requiresApproval = true;
          inserted.approvalId = result.approvalId ?? null;
          await m
            .getRepository(Job)
            .update({ jobId: inserted.jobId }, { requiresApproval: true, approvalId: inserted.approvalId });
        }
        await this.events.publish(m, {
          type: 'job_submitted',
          jobId: inserted.jobId,
          userId: user.id,
          orgId: user.orgId,
          data: {
            job_id: inserted.jobId,
            status: inserted.status,
            provider: providerName,
            config_name: dto.config_name,
            cost_estimate: estimate.estimated_cost,
            requires_approval: inserted.requiresApproval,
          },
        });
        return { job: inserted, ctx: result };
      }));
    } catch (err) {
      if (err instanceof IdempotentHit)
        return this.idempotentResult(user, err.jobId, err.requestHash, requestHash, idempotency!.source);
      throw err;
    }

    log.info('Job submitted successfully', {
      job_id: job.jobId,
      provider: providerName,
      cost_estimate: estimate.estimated_cost,
    });
    if (!ctx.dispatchedByQueue && !ctx.requiresApproval) this.dispatcher.dispatchInBackground(job);
    const position = (await this.hooks.queuePositions([job.jobId])).get(job.jobId)?.position ?? null;
    return {
      created: true,
      body: {
        job_id: job.jobId,
        status: job.status,
        requires_approval: job.requiresApproval,
        ...(job.approvalId ? { approval_id: job.approvalId } : {}),
        cost_estimate: estimate.estimated_cost,
        queue_position: position,
      },
    };
  }

  private async findIdempotent(
    m: EntityManager,
    userId: string,
    key: string,
  ): Promise<{ jobId: string; requestHash: string } | null> {
    const rows = (await m.query(
      `SELECT job_id, request_hash FROM job_idempotency_keys
        WHERE user_id = $1 AND idempotency_key = $2 AND created_at > now() - make_interval(hours => $3)`,
      [userId, key, IDEMPOTENCY_HOURS],
    )) as { job_id: string; request_hash: string }[];
    return rows[0] ? { jobId: rows[0].job_id, requestHash: rows[0].request_hash } : null;
  }

  /**
   * Takes the key for this job. A concurrent submit with the same key waits on the primary key until the first
   * commits, then sees it and rolls back its own job. A key older than 24 h is taken over.
   */
  private async claimKey(m: EntityManager, userId: string, key: string, jobId: string, hash: string): Promise<void> {
    const claimed = (await m.query(
      `INSERT INTO job_idempotency_keys (user_id, idempotency_key, job_id, request_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, idempotency_key) DO UPDATE
         SET job_id = EXCLUDED.job_id, request_hash = EXCLUDED.request_hash, created_at = now()
         WHERE job_idempotency_keys.created_at <= now() - make_interval(hours => $5)
       RETURNING job_id`,
      [userId, key, jobId, hash, IDEMPOTENCY_HOURS],
    )) as unknown[];
    if (claimed.length > 0) return;
    const existing = await this.findIdempotent(m, userId, key);
    if (!existing) throw new ConflictError('Idempotency key is being used by another request; retry');
    throw new IdempotentHit(existing.jobId, existing.requestHash);
  }

  private async idempotentResult(
    user: AuthenticatedUser,
    jobId: string,
    storedHash: string,
    requestHash: string,
    source: IdempotencyKey['source'],
  ): Promise<SubmitResult> {
    if (storedHash !== requestHash) throw keyReusedError(source, jobId);
    const job = await this.findVisible(user, jobId);
    const position = (await this.hooks.queuePositions([jobId])).get(jobId)?.position ?? null;
    return {
      created: false,
      body: {
        job_id: job.jobId,
        status: job.status,
        requires_approval: job.requiresApproval,
        ...(job.approvalId ? { approval_id: job.approvalId } : {}),
        cost_estimate: job.costEstimate,
        queue_position: isTerminal(job.status) ? null : position,
        idempotent_hit: true,
      },
    };
  }

  /** SPEC §3: admin sees all; lead and viewer their org; researcher its own. Anything else is 404. */
  private visibility(user: AuthenticatedUser): FindOptionsWhere<Job> {
    if (user.level === 'admin') return {};
    if (user.level === 'lead' || user.level === 'viewer') return { orgId: user.orgId };
    return { userId: user.id };
  }

  async findVisible(user: AuthenticatedUser, jobId: string): Promise<Job> {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(jobId);
    const job = uuid ? await this.db.getRepository(Job).findOneBy({ jobId, ...this.visibility(user) }) : null;
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  /** Acting on a visible job: the owner, a lead of its org, or an admin (a viewer only reads). */
  private assertCanAct(user: AuthenticatedUser, job: Job, action: string): void {
    const ok =
      user.level === 'admin' ||
      (user.level === 'lead' && job.orgId === user.orgId) ||
      (user.level === 'researcher' && job.userId === user.id);
    if (!ok) throw new PermissionDeniedError(`You may not ${action} this job`);
  }

  async list(user: AuthenticatedUser, q: ListJobsQuery): Promise<{ jobs: JobView[]; total: number }> {
    const where: FindOptionsWhere<Job> = { ...this.visibility(user) };
    if (q.status) where.status = q.status as Job['status'];
    if (q.provider) where.provider = q.provider;
    const [jobs, total] = await this.db.getRepository(Job).findAndCount({
      where,
      order: { createdAt: 'DESC', jobId: 'DESC' },
      take: q.limit ?? 50,
      skip: q.offset ?? 0,
    });
    const positions = await this.hooks.queuePositions(jobs.filter((j) => !isTerminal(j.status)).map((j) => j.jobId));
    const now = new Date();
    return { jobs: jobs.map((j) => jobView(j, positions.get(j.jobId)?.position ?? null, now)), total };
  }

  async get(user: AuthenticatedUser, jobId: string): Promise<JobView> {
    const job = await this.findVisible(user, jobId);
    const positions = await this.hooks.queuePositions(isTerminal(job.status) ? [] : [jobId]);
    return jobView(job, positions.get(jobId)?.position ?? null);
  }

  /** Cancels at the provider first (a failure leaves the job unchanged, 502), then through the transition function. */
  async cancel(user: AuthenticatedUser, jobId: string): Promise<JobView> {
    const job = await this.findVisible(user, jobId);
    this.assertCanAct(user, job, 'cancel');
    if (isTerminal(job.status)) {
      throw new InvalidJobStateError(
        jobId,
        job.status,
        ['pending', 'uploading', 'queued', 'running'],
        `Job ${jobId} is already ${job.status}`,
      );
    }
    if (job.externalId) {
      try {
        await this.registry.get(job.provider).cancel(job.externalId);
      } catch (err) {
        log.warning('Cancel at provider failed; job unchanged', { job_id: jobId, provider: job.provider, error: err });
        throw providerApiError(err, 'Cancel failed at the provider');
      }
    }
    const result = await this.transitions.transitionNow(jobId, 'cancelled', {
      source: 'cancel',
      patch: job.externalId ? {} : { cancelRequestedAt: new Date() },
    });
    if (!result.changed && isTerminal(result.job.status) && result.previous !== 'cancelled') {
      // It finished while we were cancelling: report the state it ended in.
      throw new InvalidJobStateError(jobId, result.job.status, ['pending', 'uploading', 'queued', 'running']);
    }
    log.info('Job cancelled', { job_id: jobId, provider: job.provider, previous_status: result.previous });
    return jobView(result.job);
  }

  async remove(user: AuthenticatedUser, jobId: string): Promise<{ job_id: string; deleted: true }> {
    const job = await this.findVisible(user, jobId);
    this.assertCanAct(user, job, 'delete');
    const deleted = (await this.db.query(
      `DELETE FROM jobs WHERE job_id = $1 AND status IN ('completed','failed','cancelled') RETURNING job_id`,
      [jobId],
    )) as [unknown[], number] | unknown[];
    const count = Array.isArray(deleted[0]) ? (deleted[0] as unknown[]).length : (deleted as unknown[]).length;
    if (count === 0) {
      const current = await this.db.getRepository(Job).findOneBy({ jobId });
      if (!current) throw new JobNotFoundError(jobId);
      throw new InvalidJobStateError(
        jobId,
        current.status,
        [...TERMINAL_STATUSES],
        `Only a finished job can be deleted; job ${jobId} is ${current.status}`,
      );
    }
    log.info('Job deleted', { job_id: jobId });
    return { job_id: jobId, deleted: true };
  }

  async costEstimate(user: AuthenticatedUser, profile = DEFAULT_HARDWARE_PROFILE): Promise<CostEstimate> {
    if (!isValidProfile(profile))
      throw new ValidationError(`Unknown hardware profile ${profile}`, { hardware_profile: 'unknown profile' });
    const overrides = (await this.configs.get(this.defaultProvider())).hardwareInfo ?? {};
    return estimateCost(this.db.manager, user.orgId, profile, undefined, overrides);
  }
}
