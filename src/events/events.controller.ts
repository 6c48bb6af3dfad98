import { Controller, Headers, MessageEvent, Query, Sse, SseSignal } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { AllowQueryApiKey, CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { EventStreamService } from './event-stream.service';

@Controller('api')
export class EventsController {
  constructor(private readonly streams: EventStreamService) {}

  /** SSE (SPEC §9). `?api_key=` is accepted here only, for browsers' EventSource; it is never logged. */
  @Sse('events')
  @MinLevel('viewer')
  @AllowQueryApiKey()
  stream(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: Record<string, unknown>,
    @Headers('last-event-id') lastEventId: string | undefined,
    @SseSignal() signal: AbortSignal,
  ): Promise<Observable<MessageEvent>> {
    return this.streams.open(
      user,
      { lastEventIdHeader: lastEventId, lastEventIdQuery: query.last_event_id, jobId: query.job_id, types: query.types },
      signal,
    );
  }
}
