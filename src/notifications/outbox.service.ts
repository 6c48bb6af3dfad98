import { Injectable } from '@nestjs/common';
import { EventsService, type StoredEvent } from '../events';
import { Transactional } from '../database/transactional';
import { ChannelsRepository } from './channels.repository';
import { DeliveriesRepository, NewDelivery } from './deliveries.repository';
import type { NotificationPayload } from './notification-messages';
import { channelHears, notificationType, type NotificationType } from './notification-types';

/** Events read per expansion: one transaction, one insert. */
const EXPAND_BATCH = 1000;

function payloadOf(type: NotificationType, event: StoredEvent): NotificationPayload {
  const { type: _internal, ...data } = event.data;
  const owner = { user_id: event.userId, org_id: event.orgId };
  return { type, timestamp: event.createdAt.toISOString(), data: { ...owner, ...data, event_id: event.id } };
}

/**
 * The outbox: reads the event log past its stored cursor, in commit order, and turns each event into one delivery
 * per channel that hears it. The cursor moves in the same transaction as the inserts, with its row locked, so a
 * crash re-reads the batch (the unique key drops the repeats) and two instances never expand at once.
 */
@Injectable()
export class NotificationOutbox {
  constructor(
    private readonly events: EventsService,
    private readonly channels: ChannelsRepository,
    private readonly deliveries: DeliveriesRepository,
  ) {}

  /** Expands the next events (with `createdBy`: only those created by then, in order). */
  @Transactional()
  async expand(limit = EXPAND_BATCH, createdBy?: Date): Promise<{ events: number; deliveries: number; more: boolean }> {
    const cursor = await this.deliveries.lockCursor();
    const read = await this.events.readCommittedAfter(cursor ?? '0:0', limit, createdBy);
    if (read.events.length === 0) return { events: 0, deliveries: 0, more: false };
    const channels = await this.channels.active();
    const rows: NewDelivery[] = [];
    for (const event of read.events) {
      const type = notificationType(event);
      if (!type) continue;
      for (const channel of channels) {
        if (channelHears(channel, type, event))
          rows.push({ channel_id: channel.id, event_id: event.id, type, payload: payloadOf(type, event) });
      }
    }
    const inserted = await this.deliveries.insertMany(rows);
    await this.deliveries.saveCursor(read.cursor);
    return { events: read.events.length, deliveries: inserted, more: read.more };
  }
}
