import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth';
import { Clock } from '../common/clock';
import { NotFoundError } from '../common/errors';
import { ChannelsService } from './channels.service';
import { DeliveriesRepository, DeliveryFilter, DeliveryRow, DeliveryStatus } from './deliveries.repository';
import { NotificationOutbox } from './outbox.service';
import { NotificationSender } from './notification-sender.service';

export interface TickSummary {
  events: number;
  deliveries_created: number;
  attempts: number;
}

/** The outbox's tick, the test and redeliver actions, and the delivery log as each caller may see it. */
@Injectable()
export class NotificationsService {
  constructor(
    private readonly outbox: NotificationOutbox,
    private readonly sender: NotificationSender,
    private readonly channels: ChannelsService,
    private readonly deliveries: DeliveriesRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * Expands new events into deliveries and sends what is due, round after round, until both are idle or
   * `budgetMs` has passed (the next tick goes on from there). While the API is under load, both take only what is
   * old enough, and the rest waits for a quieter tick.
   */
  async processTick(budgetMs = 5_000): Promise<TickSummary> {
    const deadline = performance.now() + budgetMs;
    const summary: TickSummary = { events: 0, deliveries_created: 0, attempts: 0 };
    await this.sender.takeOver();
    let more = true;
    let sent = 1;
    while ((more || sent > 0) && performance.now() < deadline) {
      // Under load, only what is old enough is handled (see NotificationSender.yieldingBefore).
      const before = this.sender.yieldingBefore();
      if (more) {
        const expanded = await this.outbox.expand(undefined, before ?? undefined);
        summary.events += expanded.events;
        summary.deliveries_created += expanded.deliveries;
        more = expanded.more;
      }
      sent = await this.sender.sendDueRound(before);
      summary.attempts += sent;
    }
    return summary;
  }

  /** Sends a `test` event to the channel now; the delivery's outcome. */
  async test(caller: AuthenticatedUser, channelId: string): Promise<DeliveryRow> {
    const channel = await this.channels.get(caller, channelId);
    const now = this.clock.now();
    const payload = {
      type: 'test',
      timestamp: now.toISOString(),
      data: { channel_id: channel.id, message: 'Test notification from SimpleTuner' },
    };
    const delivery = await this.deliveries.insertOne(
      { channel_id: channel.id, event_id: null, type: 'test', payload },
      new Date(now.getTime() + 3600_000),
    );
    return this.sender.attempt(channel, delivery);
  }

  /** Sends a delivery again now, with the same webhook-id, as a new attempt; its new state. */
  async redeliver(caller: AuthenticatedUser, id: string): Promise<DeliveryRow> {
    const delivery = await this.find(caller, id);
    const channel = await this.channels.get(caller, delivery.channel_id);
    return this.sender.attempt(channel, delivery);
  }

  list(
    caller: AuthenticatedUser,
    q: { channelId?: string; status?: DeliveryStatus },
    limit: number,
    offset: number,
  ): Promise<{ rows: DeliveryRow[]; total: number }> {
    const scope: DeliveryFilter =
      caller.level === 'admin' ? {} : caller.level === 'lead' ? { orgId: caller.orgId } : { userId: caller.id };
    return this.deliveries.list({ ...scope, ...q }, limit, offset);
  }

  private async find(caller: AuthenticatedUser, id: string): Promise<DeliveryRow> {
    const delivery = await this.deliveries.find(id);
    if (!delivery) throw new NotFoundError(`Delivery ${id} not found`);
    await this.channels.get(caller, delivery.channel_id).catch(() => {
      throw new NotFoundError(`Delivery ${id} not found`);
    });
    return delivery;
  }
}
