import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../../auth';
import { PermissionDeniedError, ValidationError } from '../../common/errors';
import { CREDENTIAL_CONFIG_KEYS, DEFAULT_PRIORITY_BY_LEVEL } from '../../common/submission-rules';
import {
  DEFAULT_HARDWARE_PROFILE,
  isValidProfile,
  ProviderConfigService,
  ProviderRegistry,
  SECRET_NAMES,
  type JobDataset,
} from '../../providers';
import { UploadsService } from '../../uploads';
import { JobSecretsService } from '../job-secrets.service';
import { estimateCost, RunHistory } from '../job-cost';
import { givenSecrets, type SubmitJobDto } from '../jobs.dto';
import { JobsService } from '../jobs.service';
import type { SubmittedJob } from './steps';

/** A job's runtime limit when the submission names none: a day. */
const DEFAULT_MAX_RUNTIME_SECONDS = 86_400;
/** How far ahead `start_after` may be. */
const MAX_START_DELAY_MS = 30 * 86_400_000;
/** Submissions to the provider before a job fails. */
const MAX_ATTEMPTS = 3;

/** A submission that passed validation: what it asks for, with the defaults filled in. */
export interface SubmitRequest {
  provider: string;
  profile: string;
  priority: number;
  maxRuntimeSeconds: number;
  startAfter: Date | null;
  maxWaitSeconds: number | null;
  /** Identifies the request for idempotency: the same key with another body is refused. */
  requestHash: string;
}

/** The path of the first key in `value` that names a secret, e.g. `config.hub.hf_token`; null when none does. */
function secretKeyPath(value: unknown, path: string): string | null {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = secretKeyPath(v, `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (CREDENTIAL_CONFIG_KEYS.has(k.toLowerCase())) return `${path}.${k}`;
      const found = secretKeyPath(v, `${path}.${k}`);
      if (found) return found;
    }
  }
  return null;
}

/** 400 when a secret hides in a free-form config, or the dataset names neither or both of its sources. */
function checkTrainerInputs(dto: SubmitJobDto): void {
  for (const [field, value] of [
    ['config', dto.config],
    ['dataloader_config', dto.dataloader_config],
    ['lycoris_config', dto.lycoris_config],
  ] as const) {
    const found = secretKeyPath(value, field);
    if (found) {
      throw new ValidationError(`${found} holds a secret: send it in secrets`, {
        secrets: `${found} looks like a credential: send it in secrets (${SECRET_NAMES.join(', ')}), never in ${field}`,
      });
    }
  }
  if (dto.dataset && (dto.dataset.url === undefined) === (dto.dataset.upload_id === undefined)) {
    throw new ValidationError('dataset needs exactly one of url and upload_id', {
      dataset: 'give exactly one of url and upload_id',
    });
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

/** What identifies a submission for idempotency (secret values by their hash: the same key with another token differs). */
function requestHashOf(dto: SubmitJobDto, provider: string, profile: string, priority: number): string {
  const request = {
    c: dto.config_name,
    cfg: dto.config,
    p: provider,
    h: profile,
    pr: priority,
    rt: dto.max_runtime_seconds ?? null,
    ...(dto.start_after ? { sa: dto.start_after } : {}),
    ...(dto.max_wait_seconds ? { mw: dto.max_wait_seconds } : {}),
    ...(dto.dataloader_config ? { dl: dto.dataloader_config } : {}),
    ...(dto.lycoris_config ? { ly: dto.lycoris_config } : {}),
    ...(dto.dataset ? { ds: { ...dto.dataset } } : {}),
    ...(dto.hub_model_id ? { hub: dto.hub_model_id } : {}),
    ...(dto.max_train_steps ? { st: dto.max_train_steps } : {}),
    ...(dto.secrets
      ? {
          sec: createHash('sha256')
            .update(stableJson({ ...dto.secrets }))
            .digest('hex'),
        }
      : {}),
  };
  return createHash('sha256').update(stableJson(request)).digest('hex');
}

/** `start_after` as a time: at most 30 days ahead (400 naming the field); a past time is kept (it starts at once). */
function startAfterOf(dto: SubmitJobDto, now: Date): Date | null {
  if (dto.start_after === undefined) return null;
  const at = new Date(dto.start_after);
  if (at.getTime() - now.getTime() > MAX_START_DELAY_MS) {
    throw new ValidationError('start_after is more than 30 days ahead', {
      start_after: 'must be at most 30 days ahead',
    });
  }
  return at;
}

/** The submit pipeline's first steps: validate the request, then price the job. */
@Injectable()
export class SubmitIntake {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly configs: ProviderConfigService,
    private readonly jobs: JobsService,
    private readonly secrets: JobSecretsService,
    private readonly uploads: UploadsService,
  ) {}

  /** 403 for a priority above the caller's level, 400 naming the field for an unknown provider or profile. */
  validate(user: AuthenticatedUser, dto: SubmitJobDto, now: Date): SubmitRequest {
    const levelDefault = DEFAULT_PRIORITY_BY_LEVEL[user.level];
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
    checkTrainerInputs(dto);
    this.secrets.assertCanStore(givenSecrets(dto));
    const priority = dto.priority ?? levelDefault;
    const requestHash = requestHashOf(dto, provider, profile, priority);
    const maxRuntimeSeconds = dto.max_runtime_seconds ?? DEFAULT_MAX_RUNTIME_SECONDS;
    const startAfter = startAfterOf(dto, now);
    return {
      provider,
      profile,
      priority,
      maxRuntimeSeconds,
      startAfter,
      maxWaitSeconds: dto.max_wait_seconds ?? null,
      requestHash,
    };
  }

  /**
   * The dataset archive the trainer downloads: the URL given, or the provider's URL of the submitter's own upload
   * (404 when it is not theirs, 400 when it expired at the provider).
   */
  async dataset(user: AuthenticatedUser, dto: SubmitJobDto): Promise<JobDataset | null> {
    if (!dto.dataset) return null;
    if (dto.dataset.url) return { url: dto.dataset.url };
    const uploadId = dto.dataset.upload_id!;
    return { url: await this.uploads.datasetUrl(user, uploadId), upload_id: uploadId };
  }

  /** The job as it will be written, with its cost estimate from the org's history on the profile. */
  async price(
    user: AuthenticatedUser,
    dto: SubmitJobDto,
    request: SubmitRequest,
    history: RunHistory,
    submittedAt: Date,
  ): Promise<SubmittedJob> {
    return this.priceWith(await this.pricing(request.provider), user, dto, request, history, submittedAt);
  }

  /** The provider's price overrides (from memory, loaded when they changed). */
  async pricing(provider: string): Promise<HardwareOverrides> {
    return (await this.configs.get(provider)).hardwareInfo ?? {};
  }

  /** price() with the overrides loaded: no database (a submit may call it while holding locks). */
  priceWith(
    overrides: HardwareOverrides,
    user: AuthenticatedUser,
    dto: SubmitJobDto,
    request: SubmitRequest,
    history: RunHistory,
    submittedAt: Date,
  ): SubmittedJob {
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
      startAfter: request.startAfter,
      maxWaitSeconds: request.maxWaitSeconds,
      submittedAt,
    };
  }
}

/** A provider's per-profile price overrides. */
type HardwareOverrides = Parameters<typeof estimateCost>[3];
