import { ApiProperty } from '@nestjs/swagger';
import { PaginationQuery } from '../common/pagination.dto';
import { ApiEnum, ApiInt } from '../openapi';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { MAX_RUNTIME_SECONDS } from './job-cost';
import { JOB_STATUSES } from '../common/job-status';
import { MAX_DATALOADER_ENTRIES } from '../common/submission-rules';

/** The dataset archive: exactly one of `url` and `upload_id`. */
export class DatasetDto {
  /** An `https://` URL of a `.zip`, `.tar` or `.tar.gz` archive the trainer downloads */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @Matches(/^https:\/\/[^\s?#]+\.(zip|tar|tar\.gz|tgz)([?#]\S*)?$/i, {
    message: 'url must be an https:// URL of a .zip, .tar or .tar.gz archive',
  })
  @ApiProperty({ required: false, example: 'https://example.com/datasets/portraits.zip' })
  url?: string;

  /** An upload of the submitter's (`POST /api/cloud/uploads`) that has not expired */
  @IsOptional()
  @IsUUID()
  @ApiProperty({ required: false, format: 'uuid' })
  upload_id?: string;
}

/** Secrets for the trainer, write-only: a job shows their names, never their values. */
export class SubmitSecretsDto {
  /** A Hugging Face token (downloads of gated models, publishing to `hub_model_id`) */
  @IsOptional()
  @IsString()
  @Length(1, 4096)
  hf_token?: string;

  @IsOptional()
  @IsString()
  @Length(1, 4096)
  s3_access_key_id?: string;

  @IsOptional()
  @IsString()
  @Length(1, 4096)
  s3_secret_access_key?: string;
}

/** The secrets a submission gave, without the names it left out (class instances carry them as undefined). */
export function givenSecrets(dto: SubmitJobDto): Partial<Record<keyof SubmitSecretsDto, string>> {
  return Object.fromEntries(Object.entries(dto.secrets ?? {}).filter(([, v]) => typeof v === 'string'));
}

export class SubmitJobDto {
  @IsString()
  @Length(1, 200)
  @ApiProperty({ example: 'flux-lora-portraits' })
  config_name: string;

  /**
   * The training configuration, free-form (any keys). `estimated_duration_seconds` feeds the cost estimate when
   * the organisation has no history; on the simulator, `simulate_failure: true` makes the job fail.
   */
  @IsObject()
  @ApiProperty({ type: 'object', additionalProperties: true, example: { learning_rate: 0.0001, max_steps: 2000 } })
  config: Record<string, unknown>;

  /** `replicate` or `simulator`; the default is `replicate` when the service has a Replicate token */
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9_-]{1,64}$/, { message: 'provider must be a provider name' })
  @ApiProperty({ example: 'simulator' })
  provider?: string;

  /** `l40s` or `h100`, optionally `-x2`, `-x4` or `-x8` */
  @IsOptional()
  @IsString()
  @Length(1, 32)
  @ApiProperty({ default: 'l40s', example: 'l40s' })
  hardware_profile?: string;

  /**
   * 0–50, higher first: LOW 0, NORMAL 10, HIGH 20, URGENT 30, CRITICAL 40. The default is the caller's level's
   * (researcher 10, lead 20, admin 30); more than that needs a lead or an admin.
   */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(50)
  @ApiInt({ example: 10 })
  priority?: number;

  /** A repeat within 24 h with the same key and body returns the first job (200, `idempotent_hit: true`) */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:-]{1,200}$/, { message: 'idempotency_key must be 1-200 letters, digits or ._:-' })
  idempotency_key?: string;

  /** The job is stopped and failed when it runs longer (60 s to 7 days) */
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(MAX_RUNTIME_SECONDS)
  @ApiInt({ example: 86400 })
  max_runtime_seconds?: number;

  /**
   * Not dispatched before this time (ISO 8601, at most 30 days ahead; a past time starts at once). The job waits
   * with blocked_reason `scheduled`
   */
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'start_after must be an ISO 8601 time' })
  @ApiProperty({ required: false, format: 'date-time', example: '2026-01-31T22:00:00Z' })
  start_after?: string;

  /** Cancelled ("Not started within N seconds") when still not dispatched this long after the submit (1 s to 30 days) */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2_592_000)
  @ApiInt({ required: false, example: 3600 })
  max_wait_seconds?: number;

  /** The trainer's multidatabackend list (its dataloader config): up to 64 objects */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_DATALOADER_ENTRIES)
  @IsObject({ each: true, message: 'dataloader_config must be an array of objects' })
  @ApiProperty({
    required: false,
    type: 'array',
    maxItems: MAX_DATALOADER_ENTRIES,
    items: { type: 'object', additionalProperties: true } as Record<string, unknown>,
    example: [{ id: 'portraits', type: 'local', instance_data_dir: '/data/portraits', caption_strategy: 'filename' }],
  })
  dataloader_config?: Record<string, unknown>[];

  /** A LyCORIS config, for `lora_type: lycoris` */
  @IsOptional()
  @IsObject()
  @ApiProperty({ type: 'object', additionalProperties: true, example: { algo: 'lokr', factor: 16 } })
  lycoris_config?: Record<string, unknown>;

  @IsOptional()
  @ValidateNested()
  @Type(() => DatasetDto)
  dataset?: DatasetDto;

  /** Where the trained model is published on the Hugging Face Hub: `owner/name` */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}\/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$/, {
    message: 'hub_model_id must be owner/name',
  })
  @ApiProperty({ required: false, example: 'my-org/portrait-lora' })
  hub_model_id?: string;

  /** Stops training after this many steps */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  @ApiInt({ required: false, example: 2000 })
  max_train_steps?: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => SubmitSecretsDto)
  secrets?: SubmitSecretsDto;
}

export class ListJobsQuery extends PaginationQuery {
  @IsOptional()
  @IsIn(JOB_STATUSES)
  @ApiEnum(JOB_STATUSES, 'JobStatus', { required: false })
  status?: string;

  @IsOptional()
  @IsString()
  provider?: string;
}

export class CostEstimateQuery {
  /** `l40s` or `h100`, optionally `-x2`, `-x4` or `-x8` */
  @IsOptional()
  @IsString()
  @Length(1, 32)
  @ApiProperty({ default: 'l40s', example: 'h100-x2' })
  hardware_profile?: string;
}

export class PollingSettingDto {
  /** true/false turn polling on/off; null returns to the default (the enterprise file, else automatic) */
  @ValidateIf((_o, v) => v !== null)
  @IsBoolean()
  @ApiProperty({ type: Boolean, nullable: true })
  enabled: boolean | null;
}

/** Fields left out keep their value; null clears one. */
export class ProviderConfigDto {
  /** Where the provider sends status webhooks; when set (and no enterprise setting says otherwise) polling stops */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(2048)
  @Matches(/^https?:\/\/\S+$/, { message: 'webhook_url must be an http(s) URL' })
  @ApiProperty({ type: String, nullable: true, example: 'https://training.example.com/api/webhooks/replicate' })
  webhook_url?: string | null;

  /** The webhook signing secret (`whsec_…`); write-only */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(8, 512)
  @ApiProperty({ type: String, nullable: true, writeOnly: true })
  webhook_secret?: string | null;

  /** A model version to use instead of the latest */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 128)
  @ApiProperty({ type: String, nullable: true })
  version_override?: string | null;

  /** Price overrides in US dollars per second (at most $100/s), by profile (`h100-x2`) or base (`h100`) */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsObject()
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, nullable: true, example: { h100: 0.002 } })
  hardware_info?: Record<string, unknown> | null;

  /**
   * Where webhooks may come from: addresses or CIDR ranges (the client address, after SIMPLETUNER_TRUSTED_PROXIES);
   * empty or null = anywhere. Others are refused 403 before the body is read
   */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsArray()
  @ArrayMaxSize(256)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  @ApiProperty({ type: [String], nullable: true, example: ['203.0.113.0/24', '2001:db8::/32'] })
  webhook_allowed_ips?: string[] | null;
}
