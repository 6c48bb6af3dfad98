import { Type } from 'class-transformer';
import { PaginationQuery } from '../common/pagination.dto';
import { IsDefined, IsIn, IsInt, IsOptional, Max, Min, ValidateIf } from 'class-validator';
import { QUEUE_ENTRY_STATUSES, QueueEntryStatus } from './queue-entry.entity';
import { MAX_PRIORITY } from './queue-priority';

export class ListQueueQuery extends PaginationQuery {
  @IsOptional()
  @IsIn(QUEUE_ENTRY_STATUSES as unknown as string[])
  status?: QueueEntryStatus;
}

export class SetPriorityDto {
  /** 0–50, or null to clear the override. */
  @IsDefined({ message: 'priority is required (0-50 or null)' })
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(0)
  @Max(MAX_PRIORITY)
  priority: number | null;
}

/** Absent = unchanged; null = back to the configured default. */
export class UpdateConcurrencyDto {
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(1)
  max_concurrent?: number | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(1)
  user_max_concurrent?: number | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(1)
  org_max_concurrent?: number | null;
}
