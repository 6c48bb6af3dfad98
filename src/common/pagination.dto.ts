import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ApiInt } from '../openapi';

/** Past this an offset is not paging but a way to make the database count rows for nothing. */
const MAX_OFFSET = 1_000_000_000;

/** `?limit=&offset=` of every list route: limit 1–500 (default 50), offset 0–1e9. */
export class PaginationQuery {
  /** Items per page */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  @ApiInt({ required: false, default: 50 })
  limit?: number;

  /** Items to skip */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  @ApiInt({ required: false, default: 0 })
  offset?: number;
}
