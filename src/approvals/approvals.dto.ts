import { ApiProperty, PartialType } from '@nestjs/swagger';
import { PaginationQuery } from '../common/pagination.dto';
import { ApiEnum, ApiInt } from '../openapi';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { USER_LEVELS, UserLevel } from '../auth';
import { APPROVAL_STATUSES, ApprovalStatus } from './approval-request.entity';
import { RULE_CONDITIONS, RuleCondition } from './rules-engine';

export class ListRequestsQuery extends PaginationQuery {
  @IsOptional()
  @IsIn(APPROVAL_STATUSES)
  @ApiEnum(APPROVAL_STATUSES, 'ApprovalStatus', { required: false })
  status?: ApprovalStatus;
}

export class ApproveDto {
  /** Kept with the decision */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  notes?: string;
}

export class RejectDto {
  /** Why; the job is cancelled with it */
  @IsString({ message: 'reason is required' })
  @Matches(/\S/, { message: 'reason is required' })
  @MaxLength(2000)
  @ApiProperty({ example: 'Use the l40s profile for this size of run' })
  reason: string;
}

/** Ids one bulk decision may name. */
const MAX_BULK_DECISIONS = 100;
export const BULK_DECISIONS = ['approve', 'reject'] as const;

export class BulkDecisionDto {
  @IsIn(BULK_DECISIONS)
  @ApiEnum(BULK_DECISIONS, 'BulkDecision')
  action: (typeof BULK_DECISIONS)[number];

  /** 1 to 100 distinct approval request ids */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BULK_DECISIONS)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  @ApiProperty({ type: [String], format: 'uuid', minItems: 1, maxItems: MAX_BULK_DECISIONS })
  ids: string[];

  /** Kept with each approval */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  notes?: string;

  /** Required to reject: each job is cancelled with it */
  @ValidateIf((o: BulkDecisionDto) => o.action === 'reject' || o.reason !== undefined)
  @IsString({ message: 'reason is required to reject' })
  @Matches(/\S/, { message: 'reason is required to reject' })
  @MaxLength(2000)
  @ApiProperty({ required: false, example: 'Use the l40s profile for this size of run' })
  reason?: string;
}

const APPROVER_LEVELS = ['researcher', 'lead', 'admin'];

export class CreateRuleDto {
  @IsString()
  @Length(1, 128)
  @ApiProperty({ example: 'Large H100 runs' })
  name: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @ApiProperty({ type: String, nullable: true })
  description?: string | null;

  /**
   * `cost_exceeds` (threshold: dollars), `first_job`, `hardware_type` (a glob of profiles), `provider` (a name),
   * `config_pattern` (a glob of config names, or `/regex/`, admin-only), `daily_jobs_exceed` (a count in 24 h) or
   * `user_level` (a level name: holds the jobs of submitters at that level)
   */
  @IsIn(RULE_CONDITIONS)
  @ApiEnum(RULE_CONDITIONS, 'RuleCondition', { example: 'hardware_type' })
  condition: RuleCondition;

  /** A number or a string depending on the condition (checked against it) */
  @Allow()
  @ApiProperty({ oneOf: [{ type: 'number' }, { type: 'string' }], nullable: true, example: 'h100*' })
  threshold?: string | number | null;

  /** Default true */
  @IsOptional()
  @IsBoolean()
  is_active?: boolean;

  /** Higher is evaluated first (default 0) */
  @IsOptional()
  @IsInt()
  @Min(-1000)
  @Max(1000)
  @ApiInt({ example: 10 })
  priority?: number;

  /** Only jobs for this provider */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 64)
  @ApiProperty({ type: String, nullable: true })
  applies_to_provider?: string | null;

  /** Levels the rule never holds */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(USER_LEVELS.length)
  @ArrayUnique()
  @IsIn(USER_LEVELS, { each: true })
  @ApiEnum(USER_LEVELS, 'UserLevel', { isArray: true, example: ['admin'] })
  exempt_levels?: UserLevel[];

  /** Levels the rule applies to (empty or left out: every level) */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(USER_LEVELS.length)
  @ArrayUnique()
  @IsIn(USER_LEVELS, { each: true })
  @ApiEnum(USER_LEVELS, 'UserLevel', { isArray: true, example: ['researcher'] })
  applies_to_levels?: UserLevel[];

  /** Who may decide (default `lead`) */
  @IsOptional()
  @IsIn(APPROVER_LEVELS)
  @ApiEnum(APPROVER_LEVELS, 'ApproverLevel', { example: 'lead' })
  required_approver_level?: UserLevel;
}

/** Fields left out keep their value. */
export class UpdateRuleDto extends PartialType(CreateRuleDto) {}
