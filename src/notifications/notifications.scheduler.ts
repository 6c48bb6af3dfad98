import { Injectable } from '@nestjs/common';
import { Interval } from '../scheduling';
import { NotificationsService, TickSummary } from './notifications.service';

const NOTIFICATION_OUTBOX_TASK = 'notification_outbox';

/** Transport only: the outbox tick, every SIMPLETUNER_NOTIFY_INTERVAL seconds, on one instance at a time. */
@Injectable()
export class NotificationsScheduler {
  constructor(private readonly notifications: NotificationsService) {}

  @Interval(NOTIFICATION_OUTBOX_TASK, (config) => config.env.SIMPLETUNER_NOTIFY_INTERVAL, { leader: true })
  tick(): Promise<TickSummary> {
    return this.notifications.processTick();
  }
}
