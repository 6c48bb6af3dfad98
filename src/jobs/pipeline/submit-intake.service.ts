import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../../auth';
import { PermissionDeniedError, ValidationError } from '../../common/errors';
import { DEFAULT_HARDWARE_PROFILE, isValidProfile, ProviderConfigService, ProviderRegistry } from '../../providers';
import { estimateCost, RunHistory } from '../job-cost';
import type { SubmitJobDto } from '../jobs.dto';
import { JobsService } from '../jobs.service';
import type { SubmittedJob } from './steps';

/** Default priorities by level; a researcher may not ask for more than its default. */
const LEVEL_PRIORITY = { admin: 30, lead: 20, researcher: 10, viewer: 0 } as const;
/** A job's runtime limit when the submission names none: a day. */
const DEFAULT_MAX_RUNTIME_SECONDS = 86_400;
/** Submissions to the provider before a job fails. */
const MAX_ATTEMPTS = 3;

/** A submission that passed validation: what it asks for, with the defaults filled in. */
export interface SubmitRequest {
  provider: string;
  profile: string;
  priority: number;
  maxRuntimeSeconds: number;
  /** Identifies the request for idempotency: the same key with another body is refused. */
  requestHash: string;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The submit pipeline's first steps: validate the request, then price the job. */
@Injectable()
export class SubmitIntake {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly configs: ProviderConfigService,
    private readonly jobs: JobsService,
  ) {}

  /** 403 for a priority above the caller's level, 400 naming the field for an unknown provider or profile. */
  validate(user: AuthenticatedUser, dto: SubmitJobDto): SubmitRequest {
    const levelDefault = LEVEL_PRIORITY[user.level];
    if (dto.priority !== undefined && user.level !== 'admin' && user.level !== 'lead' && dto.priority > levelDefault) {
      throw new PermissionDeniedError(`Priority above ${levelDefault} needs a lead or admin`, {
        max_priority: levelDefault,
      });
    }
    const provider = dto.provider ?? this.jobs.defaultProvider();
    if (!this.registry.has(provider)) {
      const names = this.registry.list().map((p) => p.name);
      throw new ValidationError(`Unknown provider ${provider}`, { provider: `must be one of ${names.join(', ')}` });
    }
    const impl = this.registry.get(provider);
    if (impl.isConfigured && !impl.isConfigured()) {
      throw new ValidationError(`Provider ${provider} is not configured`, {
        provider: 'not configured (missing credentials)',
      });
    }
    const profile = dto.hardware_profile ?? DEFAULT_HARDWARE_PROFILE;
    if (!isValidProfile(profile))
      throw new ValidationError(`Unknown hardware profile ${profile}`, { hardware_profile: 'unknown profile' });
    const priority = dto.priority ?? levelDefault;
    const request = { c: dto.config_name, cfg: dto.config, p: provider, h: profile, pr: priority };
    const requestHash = createHash('sha256')
      .update(stableJson({ ...request, rt: dto.max_runtime_seconds ?? null }))
      .digest('hex');
    const maxRuntimeSeconds = dto.max_runtime_seconds ?? DEFAULT_MAX_RUNTIME_SECONDS;
    return { provider, profile, priority, maxRuntimeSeconds, requestHash };
  }

  /** The job as it will be written, with its cost estimate from the org's history on the profile. */
  async price(
    user: AuthenticatedUser,
    dto: SubmitJobDto,
    request: SubmitRequest,
    history: RunHistory,
    submittedAt: Date,
  ): Promise<SubmittedJob> {
    const overrides = (await this.configs.get(request.provider)).hardwareInfo ?? {};
    const estimate = estimateCost(history, request.profile, dto.config, overrides, request.maxRuntimeSeconds);
    return {
      jobId: randomUUID(),
      userId: user.id,
      orgId: user.orgId,
      provider: request.provider,
      hardwareProfile: request.profile,
      configName: dto.config_name,
      priority: request.priority,
      costEstimate: estimate.estimated_cost,
      maxAttempts: MAX_ATTEMPTS,
      submittedAt,
    };
  }
}
