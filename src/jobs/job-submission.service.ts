import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { Transactional } from '../database/transactional';
import type { AuthenticatedUser } from '../auth';
import { ConflictError, PermissionDeniedError, ValidationError } from '../common/errors';
import { AppConfig } from '../config';
import { getCorrelationId } from '../context';
import { EventsService } from '../events';
import { getLogger } from '../logging';
import { DEFAULT_HARDWARE_PROFILE, isValidProfile, ProviderConfigService, ProviderRegistry } from '../providers';
import { IdempotencyKey, keyReusedError } from './idempotency';
import { CostEstimate, estimateCost } from './job-cost';
import { JobHooks, SubmitContext } from './job-hooks';
import { isTerminal } from '../common/job-status';
import { Job } from './job.entity';
import type { SubmitJobDto } from './jobs.dto';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';

const log = getLogger('simpletuner.cloud.jobs');

/** Default priorities by level; a researcher may not ask for more than its default. */
const LEVEL_PRIORITY = { admin: 30, lead: 20, researcher: 10, viewer: 0 } as const;
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

interface Prepared {
  providerName: string;
  profile: string;
  priority: number;
  requestHash: string;
  estimate: CostEstimate;
  maxRuntimeSeconds: number;
}

/** Accepting a job: validation, the cost estimate, idempotency, and the submit hooks (approvals, queue). */
@Injectable()
export class JobSubmissionService {
  constructor(
    /** Carries @Transactional()'s transaction. */
    private readonly txHost: TransactionHost,
    private readonly config: AppConfig,
    private readonly repo: JobsRepository,
    private readonly registry: ProviderRegistry,
    private readonly configs: ProviderConfigService,
    private readonly hooks: JobHooks,
    private readonly events: EventsService,
    private readonly jobs: JobsService,
  ) {}

  async submit(
    user: AuthenticatedUser,
    dto: SubmitJobDto,
    idempotency: IdempotencyKey | null = dto.idempotency_key ? { key: dto.idempotency_key, source: 'body' } : null,
  ): Promise<SubmitResult> {
    const prepared = await this.prepare(user, dto);
    if (idempotency) {
      const hit = await this.repo.findIdempotencyKey(user.id, idempotency.key, IDEMPOTENCY_HOURS);
      if (hit) return this.replay(user, hit.jobId, hit.requestHash, prepared.requestHash, idempotency.source);
    }
    let job: Job;
    try {
      job = await this.create(user, dto, prepared, idempotency);
    } catch (err) {
      if (err instanceof IdempotentHit)
        return this.replay(user, err.jobId, err.requestHash, prepared.requestHash, idempotency!.source);
      throw err;
    }
    log.info('Job submitted successfully', {
      job_id: job.jobId,
      provider: prepared.providerName,
      cost_estimate: prepared.estimate.estimated_cost,
    });
    const position = (await this.hooks.queuePositions([job.jobId])).get(job.jobId)?.position ?? null;
    return {
      created: true,
      body: {
        job_id: job.jobId,
        status: job.status,
        requires_approval: job.requiresApproval,
        ...(job.approvalId ? { approval_id: job.approvalId } : {}),
        cost_estimate: prepared.estimate.estimated_cost,
        queue_position: position,
      },
    };
  }

  private async prepare(user: AuthenticatedUser, dto: SubmitJobDto): Promise<Prepared> {
    const levelDefault = LEVEL_PRIORITY[user.level];
    if (dto.priority !== undefined && user.level !== 'admin' && user.level !== 'lead' && dto.priority > levelDefault) {
      throw new PermissionDeniedError(`Priority above ${levelDefault} needs a lead or admin`, {
        max_priority: levelDefault,
      });
    }
    const providerName = dto.provider ?? this.jobs.defaultProvider();
    if (!this.registry.has(providerName)) {
      const names = this.registry.list().map((p) => p.name);
      throw new ValidationError(`Unknown provider ${providerName}`, {
        provider: `must be one of ${names.join(', ')}`,
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
    const maxRuntimeSeconds = dto.max_runtime_seconds ?? DEFAULT_MAX_RUNTIME_SECONDS;
    const request = { c: dto.config_name, cfg: dto.config, p: providerName, h: profile, pr: priority };
    const requestHash = createHash('sha256')
      .update(stableJson({ ...request, rt: dto.max_runtime_seconds ?? null }))
      .digest('hex');
    const overrides = (await this.configs.get(providerName)).hardwareInfo ?? {};
    const history = await this.repo.completedRunStats(user.orgId, profile);
    const estimate = estimateCost(history, profile, dto.config, overrides, maxRuntimeSeconds);
    return { providerName, profile, priority, requestHash, estimate, maxRuntimeSeconds };
  }

  /** The job row, its idempotency key, the submit hooks and job_submitted: one transaction. */
  @Transactional()
  private async create(
    user: AuthenticatedUser,
    dto: SubmitJobDto,
    p: Prepared,
    idempotency: IdempotencyKey | null,
  ): Promise<Job> {
    const job = await this.repo.insert({
      userId: user.id,
      orgId: user.orgId,
      provider: p.providerName,
      status: 'pending',
      configName: dto.config_name,
      config: dto.config,
      hardwareProfile: p.profile,
      priority: p.priority,
      costEstimate: p.estimate.estimated_cost,
      correlationId: getCorrelationId(),
      maxRuntimeSeconds: p.maxRuntimeSeconds,
      idempotencyKey: idempotency?.key ?? null,
      requestHash: p.requestHash,
      submittedKeyId: user.apiKeyId,
      submittedKeyMintedBy: user.keyCreatedBy ?? null,
      metadata: {},
    });
    if (idempotency) await this.claimKey(user.id, idempotency.key, job.jobId, p.requestHash);
    const ctx: SubmitContext = { user, requiresApproval: false, costEstimate: p.estimate.estimated_cost };
    await this.hooks.runSubmitHooks(job, ctx);
    await this.events.publish({
      type: 'job_submitted',
      jobId: job.jobId,
      userId: user.id,
      orgId: user.orgId,
      data: {
        status: job.status,
        provider: p.providerName,
        config_name: dto.config_name,
        cost_estimate: p.estimate.estimated_cost,
        requires_approval: job.requiresApproval,
      },
    });
    return job;
  }

  /**
   * Takes the key for this job. A concurrent submit with the same key waits on the primary key until the first
   * commits, then sees it and rolls back its own job. A key older than 24 h is taken over.
   */
  private async claimKey(userId: string, key: string, jobId: string, hash: string): Promise<void> {
    if (await this.repo.claimIdempotencyKey(userId, key, jobId, hash, IDEMPOTENCY_HOURS)) return;
    const existing = await this.repo.findIdempotencyKey(userId, key, IDEMPOTENCY_HOURS);
    if (!existing) throw new ConflictError('Idempotency key is being used by another request; retry');
    throw new IdempotentHit(existing.jobId, existing.requestHash);
  }

  private async replay(
    user: AuthenticatedUser,
    jobId: string,
    storedHash: string,
    requestHash: string,
    source: IdempotencyKey['source'],
  ): Promise<SubmitResult> {
    if (storedHash !== requestHash) throw keyReusedError(source, jobId);
    const job = await this.jobs.findVisible(user, jobId);
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
}
