import { PaginationQuery } from '../common/pagination.dto';
import { ApiEnum, ApiInt } from '../openapi';
import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsIn, IsInt, IsOptional, IsString, Length, Max, Min, ValidateIf } from 'class-validator';
import { PAUSE_SCOPES, type PauseScope } from './dispatch-pauses.repository';
import { QUEUE_ENTRY_STATUSES, QueueEntryStatus } from './queue-entry.entity';
import { MAX_PRIORITY } from './queue-priority';

export class ListQueueQuery extends PaginationQuery {
  @IsOptional()
  @IsIn(QUEUE_ENTRY_STATUSES)
  @ApiEnum(QUEUE_ENTRY_STATUSES, 'QueueEntryStatus', { required: false })
  status?: QueueEntryStatus;
}

export class SetPriorityDto {
  /** 0–50 (LOW 0, NORMAL 10, HIGH 20, URGENT 30, CRITICAL 40), or null to clear the override */
  @IsDefined({ message: 'priority is required (0-50 or null)' })
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(0)
  @Max(MAX_PRIORITY)
  @ApiInt({ nullable: true, example: 30 })
  priority: number | null;
}

/** A limit above this is no limit; it also keeps every count comparison inside a 32-bit integer. */
const MAX_CONCURRENCY = 100_000;

/** Running jobs at once, in all, per user and per organisation. Absent = unchanged; null = back to the configured default. */
export class UpdateConcurrencyDto {
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(MAX_CONCURRENCY)
  @ApiInt({ nullable: true, required: false })
  max_concurrent?: number | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(MAX_CONCURRENCY)
  @ApiInt({ nullable: true, required: false })
  user_max_concurrent?: number | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(MAX_CONCURRENCY)
  @ApiInt({ nullable: true, required: false })
  org_max_concurrent?: number | null;
}

/** Which dispatch scope: the whole service, one provider, or one organisation. */
export class PauseTargetDto {
  @IsIn(PAUSE_SCOPES)
  @ApiProperty({ enum: PAUSE_SCOPES, example: 'provider' })
  scope: PauseScope;

  /** The provider name or org id; required for `provider` and `org`, absent for `global` */
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @ApiProperty({ required: false, type: String, example: 'replicate' })
  scope_id?: string;
}

export class PauseDispatchDto extends PauseTargetDto {
  /** Why dispatch is paused: shown to everyone the pause holds back */
  @IsString()
  @Length(1, 500)
  @ApiProperty({ example: 'Provider maintenance until 06:00 UTC' })
  reason: string;
}
