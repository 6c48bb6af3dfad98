import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { Db } from '../database/transaction-host';
import { NotificationChannel } from './notification-channel.entity';

export interface ChannelScope {
  userId?: string;
  orgId?: string;
}

/** The notifications module's channels table. */
@Injectable()
export class ChannelsRepository {
  constructor(private readonly db: Db) {}

  /** Every channel (admin), or an organisation's (its org channels and its members' own), or one user's. */
  list(scope: ChannelScope): Promise<NotificationChannel[]> {
    const where = scope.userId ? { userId: scope.userId } : scope.orgId ? { orgId: scope.orgId } : {};
    return this.db.tx.getRepository(NotificationChannel).find({ where, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  active(): Promise<NotificationChannel[]> {
    return this.db.tx.getRepository(NotificationChannel).find({ where: { isActive: true } });
  }

  find(id: string): Promise<NotificationChannel | null> {
    return this.db.tx.getRepository(NotificationChannel).findOneBy({ id });
  }

  findMany(ids: string[]): Promise<NotificationChannel[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.tx.getRepository(NotificationChannel).findBy({ id: In(ids) });
  }

  save(channel: Partial<NotificationChannel>): Promise<NotificationChannel> {
    return this.db.tx.getRepository(NotificationChannel).save(channel);
  }

  async remove(id: string): Promise<void> {
    await this.db.tx.getRepository(NotificationChannel).delete({ id });
  }

  /** Switches a channel off unless it already is; true when this call did it. */
  async disable(id: string, reason: string): Promise<boolean> {
    const result = await this.db.tx
      .getRepository(NotificationChannel)
      .update({ id, isActive: true }, { isActive: false, disabledReason: reason });
    return (result.affected ?? 0) > 0;
  }
}
