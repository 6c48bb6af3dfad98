import { ApiHideProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Allow, IsInt, IsOptional, Max, Min } from 'class-validator';
import { ApiInt } from '../openapi';

/** The largest `?tail=`. */
const MAX_TAIL_LINES = 10_000;
/** Offsets are bytes; past 2^53 they are no longer exact numbers. */
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

/** `?tail=` of GET /api/cloud/jobs/:id/logs and its stream. */
class LogTailQuery {
  /** The last lines of the kept log (the read route's default: 200) */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_TAIL_LINES)
  @ApiInt({ required: false, minimum: 1, maximum: MAX_TAIL_LINES })
  tail?: number;
}

/** `?tail=` or `?offset=` of GET /api/cloud/jobs/:id/logs. */
export class JobLogQuery extends LogTailQuery {
  /** Read from this provider byte offset (a previous read's `next_offset`) instead of the tail */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  @ApiInt({ required: false, minimum: 0 })
  offset?: number;
}

/** `?tail=` and the query forms of the stream's resume point and key. */
export class LogStreamQuery extends LogTailQuery {
  /** Resume after this offset, for clients that cannot send the `Last-Event-ID` header (which wins) */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  @ApiInt({ required: false, minimum: 0 })
  last_event_id?: number;

  /** For browsers' EventSource, which cannot send headers; documented as a security scheme, not a parameter. */
  @Allow()
  @ApiHideProperty()
  api_key?: unknown;
}
