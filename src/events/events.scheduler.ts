import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { EventsService } from './events.service';

/** Daily retention purge (SPEC §9). */
@Injectable()
export class EventsScheduler {
  constructor(private readonly events: EventsService) {}

  @Cron(CronExpression.EVERY_DAY_AT_3AM, { name: 'event_retention', waitForCompletion: true })
  async purge(): Promise<void> {
    await this.events.purgeExpired(new Date());
  }
}
