import type { ServerResponse } from 'node:http';
import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowQueryApiKey, CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { ApiErrors, ApiEventStream } from '../openapi';
import { EventStreamService } from './event-stream.service';
import { EventsQuery } from './events.dto';
import { STREAM_EVENTS } from './events.view';

/** The SSE route: long-lived, so the request timeout leaves it out. */
export const EVENTS_PATH = '/api/events';

@ApiTags('Events')
@Controller('api')
export class EventsController {
  constructor(private readonly streams: EventStreamService) {}

  /**
   * SSE, written to the response directly rather than through @Sse: one preformatted write per event and client
   * instead of Nest's per-message stream pipeline (see bench:sse). `?api_key=` is accepted here only, for
   * browsers' EventSource; it is never logged.
   */
  @Get('events')
  @MinLevel('viewer')
  @AllowQueryApiKey()
  @ApiOperation({
    summary: 'Stream events (Server-Sent Events)',
    description:
      'Events of the jobs the caller may see (own jobs; a lead its organisation; an admin all). Starts with a ' +
      '`: connected` comment, then a `: heartbeat` comment every 15 s. Without `Last-Event-ID` the stream is live ' +
      'only; with it, every later event is replayed first, then the stream goes live without gap or duplicate.',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this event id (what EventSource sends when it reconnects)',
    schema: { type: 'string', pattern: '^\\d{1,19}$' },
  })
  @ApiEventStream(STREAM_EVENTS, 'The event stream; each message has `id:`, `event:` (the type) and `data:` (JSON).')
  @ApiErrors('service_unavailable')
  stream(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: EventsQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: ServerResponse,
  ): Promise<void> {
    return this.streams.open(
      user,
      {
        lastEventIdHeader: lastEventId,
        lastEventIdQuery: query.last_event_id,
        jobId: query.job_id,
        types: query.types,
      },
      res,
    );
  }
}
