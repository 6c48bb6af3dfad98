import { Type } from 'class-transformer';
import { PaginationQuery } from '../common/pagination.dto';
import {
  Allow,
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { USER_LEVELS, UserLevel } from '../auth/user.entity';
import { APPROVAL_STATUSES, ApprovalStatus } from './approval-request.entity';
import { RULE_CONDITIONS, RuleCondition } from './rules-engine';

export class ListRequestsQuery extends PaginationQuery {
  @IsOptional()
  @IsIn(APPROVAL_STATUSES as unknown as string[])
  status?: ApprovalStatus;
}

export class ApproveDto {
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  notes?: string;
}

export class RejectDto {
  @IsString({ message: 'reason is required' })
  @Matches(/\S/, { message: 'reason is required' })
  @MaxLength(2000)
  reason: string;
}

const APPROVER_LEVELS = ['researcher', 'lead', 'admin'];

export class CreateRuleDto {
  @IsString()
  @Length(1, 128)
  name: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @IsIn(RULE_CONDITIONS as unknown as string[])
  condition: RuleCondition;

  /** A number or a string depending on the condition; checked by the rules service. */
  @Allow()
  threshold?: string | number | null;

  @IsOptional()
  @IsBoolean()
  is_active?: boolean;

  @IsOptional()
  @IsInt()
  @Min(-1000)
  @Max(1000)
  priority?: number;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 64)
  applies_to_provider?: string | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(USER_LEVELS.length)
  @ArrayUnique()
  @IsIn(USER_LEVELS as unknown as string[], { each: true })
  exempt_levels?: UserLevel[];

  @IsOptional()
  @IsIn(APPROVER_LEVELS)
  required_approver_level?: UserLevel;
}

export class UpdateRuleDto {
  @IsOptional()
  @IsString()
  @Length(1, 128)
  name?: string;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(1000)
  description?: string | null;

  @IsOptional()
  @IsIn(RULE_CONDITIONS as unknown as string[])
  condition?: RuleCondition;

  @Allow()
  threshold?: string | number | null;

  @IsOptional()
  @IsBoolean()
  is_active?: boolean;

  @IsOptional()
  @IsInt()
  @Min(-1000)
  @Max(1000)
  priority?: number;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 64)
  applies_to_provider?: string | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(USER_LEVELS.length)
  @ArrayUnique()
  @IsIn(USER_LEVELS as unknown as string[], { each: true })
  exempt_levels?: UserLevel[];

  @IsOptional()
  @IsIn(APPROVER_LEVELS)
  required_approver_level?: UserLevel;
}
