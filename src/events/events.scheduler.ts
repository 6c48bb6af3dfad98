import { Injectable } from '@nestjs/common';
import { Cron } from '../scheduling';
import { EventsService } from './events.service';

export const EVENT_RETENTION_TASK = 'event_retention';

/**
 * Transport only: the daily retention purge. Every instance may run it; deleting rows that another instance
 * already deleted is harmless, so no lease is needed.
 */
@Injectable()
export class EventsScheduler {
  constructor(private readonly events: EventsService) {}

  @Cron('30 3 * * *', { name: EVENT_RETENTION_TASK, timeZone: 'UTC' })
  purge(): Promise<number> {
    return this.events.purgeExpired();
  }
}
