import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ApiInt } from '../openapi';

export const JOB_EVENTS_DEFAULT = 200;
const JOB_EVENTS_MAX = 1000;

export class JobEventsQuery {
  /** The newest this many events (older ones are left out and `more` says so) */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(JOB_EVENTS_MAX)
  @ApiInt({ required: false, default: JOB_EVENTS_DEFAULT, minimum: 1, maximum: JOB_EVENTS_MAX })
  limit?: number;
}
