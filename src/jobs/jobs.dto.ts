import { ApiProperty } from '@nestjs/swagger';
import { PaginationQuery } from '../common/pagination.dto';
import { ApiEnum, ApiInt } from '../openapi';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { MAX_RUNTIME_SECONDS } from './job-cost';
import { JOB_STATUSES } from '../common/job-status';

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
}
