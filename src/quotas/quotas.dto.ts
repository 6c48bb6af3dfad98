import { ApiProperty, PartialType, PickType } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsNumber, IsOptional, IsString, Max, MaxLength, ValidateIf } from 'class-validator';
import { ApiEnum } from '../openapi';
import { QUOTA_ACTIONS, QUOTA_SCOPES, QUOTA_TYPES, QuotaAction, QuotaScope, QuotaType } from './quota.entity';
import { USAGE_GROUPS, UsageGroup } from './spend.repository';

/** The largest limit a quota takes: dollars for cost quotas, a count for the others. */
const MAX_QUOTA_LIMIT = 1_000_000_000;

export class CreateQuotaDto {
  /** `user`, `level` and `global` quotas count each user's own jobs; `org` the org's together; `provider` every job on it */
  @IsIn(QUOTA_SCOPES)
  @ApiEnum(QUOTA_SCOPES, 'QuotaScope', { example: 'org' })
  scope: QuotaScope;

  /** The org id, level name, user id or provider name the quota is about; absent or null for `global` */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(64)
  @ApiProperty({ type: String, nullable: true, required: false, example: '5f0c7a3e-6d1b-4c59-9a1e-2b7c1d0e9f11' })
  scope_id?: string | null;

  /** Cost in the UTC day or calendar month (dollars), submissions in the rolling hour or day, or jobs at once */
  @IsIn(QUOTA_TYPES)
  @ApiEnum(QUOTA_TYPES, 'QuotaType', { example: 'cost_monthly' })
  type: QuotaType;

  /** Greater than 0: dollars for cost types, a whole number for the others */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Max(MAX_QUOTA_LIMIT)
  @ApiProperty({ example: 500, maximum: MAX_QUOTA_LIMIT })
  limit: number;

  /** What happens when a submit would pass the limit */
  @IsIn(QUOTA_ACTIONS)
  @ApiEnum(QUOTA_ACTIONS, 'QuotaAction', { example: 'block' })
  action: QuotaAction;

  /** Default true */
  @IsOptional()
  @IsBoolean()
  is_active?: boolean;
}

/** Fields left out keep their value; a quota's scope and type never change (create another). */
export class UpdateQuotaDto extends PartialType(PickType(CreateQuotaDto, ['limit', 'action', 'is_active'] as const)) {}

export class UsageQuery {
  /** Inclusive: an ISO date or time (default: the first of the current UTC month) */
  @IsOptional()
  @IsString()
  @MaxLength(40)
  @ApiProperty({ required: false, example: '2026-12-01' })
  from?: string;

  /** Exclusive: an ISO date or time (default: the first of the next UTC month) */
  @IsOptional()
  @IsString()
  @MaxLength(40)
  @ApiProperty({ required: false, example: '2027-01-01' })
  to?: string;

  /** Default `day` */
  @IsOptional()
  @IsIn(USAGE_GROUPS)
  @ApiEnum(USAGE_GROUPS, 'UsageGroup', { required: false })
  group_by?: UsageGroup;

  /** `csv` answers text/csv (as does `Accept: text/csv`) */
  @IsOptional()
  @IsIn(['json', 'csv'])
  @ApiEnum(['json', 'csv'], 'UsageFormat', { required: false })
  format?: 'json' | 'csv';
}
