import { ApiProperty } from '@nestjs/swagger';
import { ApiInt } from '../openapi';

/** Why one id of a bulk action failed: the error its single route would have answered. */
export class BulkItemErrorView {
  @ApiProperty({ example: 'invalid_job_state' })
  code: string;
  @ApiProperty({ example: 'Job 7c9e6679-7425-40de-944b-e07fc1f90ae7 is completed' })
  message: string;
}

/** The counts of a bulk action's answer. */
export class BulkCountsView {
  @ApiInt()
  succeeded: number;
  @ApiInt()
  failed: number;
}
