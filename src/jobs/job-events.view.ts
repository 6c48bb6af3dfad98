import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiUuid } from '../openapi';

/** One stored event of a job, as the event stream delivered it. */
export class JobEventView {
  /** The event's id on GET /api/events (a whole number, as a string) */
  @ApiProperty({ example: '42', pattern: '^\\d{1,19}$' })
  id: string;
  @ApiProperty({ example: 'job_status_changed' })
  type: string;
  @ApiDateTime()
  created_at: string;
  /**
   * The event's `data`, exactly as GET /api/events sends it (`type`, `job_id` and the fields of that type, whose
   * schemas the stream documents); clients should ignore fields and types they do not know
   */
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { type: 'job_status_changed', job_id: '3f1c2b9e-8a4d-4c6e-9b1a-2d7e5f0a1c3b', status: 'running' },
  })
  data: Record<string, unknown>;
}

export class JobEventListView {
  @ApiUuid()
  job_id: string;
  /** Oldest first, in the order the event stream delivered them */
  @ApiProperty({ type: [JobEventView] })
  events: JobEventView[];
  /** Older events exist beyond `limit` */
  more: boolean;
}
