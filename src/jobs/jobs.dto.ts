import { Type } from 'class-transformer';
import { PaginationQuery } from '../common/pagination.dto';
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
import { JOB_STATUSES } from './job-status';

export class SubmitJobDto {
  @IsString()
  @Length(1, 200)
  config_name: string;

  /** Free-form: unknown keys inside are allowed (SPEC §11). */
  @IsObject()
  config: Record<string, unknown>;

  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9_-]{1,64}$/, { message: 'provider must be a provider name' })
  provider?: string;

  @IsOptional()
  @IsString()
  @Length(1, 32)
  hardware_profile?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(50)
  priority?: number;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:-]{1,200}$/, { message: 'idempotency_key must be 1-200 letters, digits or ._:-' })
  idempotency_key?: string;

  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(MAX_RUNTIME_SECONDS)
  max_runtime_seconds?: number;
}

export class ListJobsQuery extends PaginationQuery {
  @IsOptional()
  @IsIn(JOB_STATUSES as unknown as string[])
  status?: string;

  @IsOptional()
  @IsString()
  provider?: string;
}

export class CostEstimateQuery {
  @IsOptional()
  @IsString()
  @Length(1, 32)
  hardware_profile?: string;
}

export class PollingSettingDto {
  /** true/false force polling on/off; null returns to the default (enterprise flag, else auto). */
  @ValidateIf((_o, v) => v !== null)
  @IsBoolean()
  enabled: boolean | null;
}

export class ProviderConfigDto {
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(2048)
  @Matches(/^https?:\/\/\S+$/, { message: 'webhook_url must be an http(s) URL' })
  webhook_url?: string | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(8, 512)
  webhook_secret?: string | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 128)
  version_override?: string | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsObject()
  hardware_info?: Record<string, unknown> | null;
}
