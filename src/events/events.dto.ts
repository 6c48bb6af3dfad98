import { ApiHideProperty, ApiProperty } from '@nestjs/swagger';
import { Allow } from 'class-validator';

/**
 * The query of GET /api/events. Kept as sent (no conversion): the stream service parses it, so that each bad value
 * gets its own precise message, and a parameter given twice is refused rather than half-read.
 */
export class EventsQuery {
  /** Only this job's events */
  @Allow()
  @ApiProperty({ type: String, required: false, maxLength: 200 })
  job_id?: unknown;

  /** Only these event types, comma-separated */
  @Allow()
  @ApiProperty({ type: String, required: false, example: 'job_status_changed,approval_required' })
  types?: unknown;

  /** Replay every later event first (for clients that cannot send the `Last-Event-ID` header, which wins) */
  @Allow()
  @ApiProperty({ type: String, required: false, pattern: '^\\d{1,19}$' })
  last_event_id?: unknown;

  /** For browsers' EventSource, which cannot send headers; documented as a security scheme, not a parameter. */
  @Allow()
  @ApiHideProperty()
  api_key?: unknown;
}
