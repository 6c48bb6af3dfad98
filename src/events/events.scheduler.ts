import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { BackgroundTaskManager } from '../scheduling';
import { EventsService } from './events.service';

export const EVENT_RETENTION_TASK = 'event_retention';

/**
 * Transport only: the daily retention purge (SPEC §9) through the shared tick wrapper. Every instance may run
 * it; deleting rows that another instance already deleted is harmless, so no lease is needed.
 */
@Injectable()
export class EventsScheduler implements OnModuleInit {
  constructor(
    private readonly events: EventsService,
    @Optional() private readonly tasks?: BackgroundTaskManager,
  ) {}

  onModuleInit(): void {
    this.tasks?.declare({ name: EVENT_RETENTION_TASK, schedule: 'cron 30 3 * * * (UTC)' });
  }

  @Cron('30 3 * * *', { name: EVENT_RETENTION_TASK, timeZone: 'UTC', waitForCompletion: true })
  async purge(): Promise<void> {
    if (this.tasks) await this.tasks.runTick(EVENT_RETENTION_TASK, () => this.events.purgeExpired(new Date()));
    else await this.events.purgeExpired(new Date());
  }
}
