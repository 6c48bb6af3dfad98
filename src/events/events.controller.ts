import type { ServerResponse } from 'node:http';
import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { AllowQueryApiKey, CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { EventStreamService } from './event-stream.service';

/** The SSE route: long-lived, so the request timeout leaves it out. */
export const EVENTS_PATH = '/api/events';

@Controller('api')
export class EventsController {
  constructor(private readonly streams: EventStreamService) {}

  /**
   * SSE (SPEC §9), written to the response directly rather than through @Sse: one preformatted write per event
   * and client instead of Nest's per-message stream pipeline (see bench:sse). `?api_key=` is accepted here only,
   * for browsers' EventSource; it is never logged.
   */
  @Get('events')
  @MinLevel('viewer')
  @AllowQueryApiKey()
  stream(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: Record<string, unknown>,
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
