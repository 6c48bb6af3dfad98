import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Past this an offset is not paging but a way to make the database count rows for nothing. */
export const MAX_OFFSET = 1_000_000_000;

/** `?limit=&offset=` of every list route: limit 1–500 (the route picks the default), offset 0–1e9. */
export class PaginationQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  offset?: number;
}
