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

/** A limit above this is no limit; it also keeps every count comparison inside a 32-bit integer. */
export const MAX_CONCURRENCY = 100_000;

/** Absent = unchanged; null = back to the configured default. */
export class UpdateConcurrencyDto {
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(MAX_CONCURRENCY)
  max_concurrent?: number | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(MAX_CONCURRENCY)
  user_max_concurrent?: number | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(MAX_CONCURRENCY)
  org_max_concurrent?: number | null;
}
