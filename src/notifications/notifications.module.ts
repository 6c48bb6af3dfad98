import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ChannelsRepository } from './channels.repository';
import { ChannelsService } from './channels.service';
import { DeliveriesRepository } from './deliveries.repository';
import { NotificationChannel } from './notification-channel.entity';
import { NotificationSender } from './notification-sender.service';
import { NotificationTransports } from './notification-transports';
import { NotificationsController } from './notifications.controller';
import { NotificationsMetrics } from './notifications.metrics';
import { NotificationsScheduler } from './notifications.scheduler';
import { NotificationsService } from './notifications.service';
import { NotificationOutbox } from './outbox.service';

/**
 * Notifications: channels (webhook, Slack, email), the outbox that turns the event log into deliveries, the
 * sender with its retries, and the delivery log.
 */
@Module({
  imports: [TypeOrmModule.forFeature([NotificationChannel])],
  controllers: [NotificationsController],
  providers: [
    ChannelsRepository,
    DeliveriesRepository,
    ChannelsService,
    NotificationOutbox,
    NotificationSender,
    NotificationTransports,
    NotificationsMetrics,
    NotificationsService,
    NotificationsScheduler,
  ],
  exports: [NotificationsService],
})
export class NotificationsModule {}
