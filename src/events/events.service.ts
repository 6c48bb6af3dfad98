import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { EventHub } from './event-hub';
import { AfterCommitHook } from './events-commit.subscriber';
import { EventsRepository } from './events.repository';
import { LoggedEvent, NewEvent, StoredEvent } from './events.types';

const log = getLogger('simpletuner.cloud.events');

function toStored({ position: _p, ...event }: LoggedEvent): StoredEvent {
  return event;
}

/** The event log's write side: what other modules call (SPEC §9). */
@Injectable()
export class EventsService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly commitHook: AfterCommitHook;

  constructor(
    private readonly repo: EventsRepository,
    private readonly hub: EventHub,
    private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {
    this.commitHook = new AfterCommitHook(() => this.hub.wake());
  }

  onModuleInit(): void {
    this.db.subscribers.push(this.commitHook);
  }

  beforeApplicationShutdown(): void {
    const i = this.db.subscribers.indexOf(this.commitHook);
    if (i >= 0) this.db.subscribers.splice(i, 1);
  }

  /**
   * Inserts the event in the caller's transaction (`manager` = that transaction's EntityManager). Subscribers
   * are woken only after it commits; nothing is delivered if it rolls back.
   */
  async publish(manager: EntityManager, event: NewEvent): Promise<StoredEvent> {
    const [stored] = await this.publishMany(manager, [event]);
    return stored;
  }

  async publishMany(manager: EntityManager, events: NewEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    // On PostgreSQL the NOTIFY rides in the transaction and wakes every instance on commit; the in-process
    // hook wakes this one without waiting for the round trip (and is the only wake-up on PGlite).
    const rows = await this.repo.insert(manager, events, !this.config.embeddedDatabase);
    this.commitHook.track(manager);
    return rows.map(toStored);
  }

  /** Retention (SPEC §9): deletes events created before `cutoff`; returns how many. */
  async purgeOlderThan(cutoff: Date): Promise<number> {
    const purged = await this.repo.deleteOlderThan(cutoff);
    if (purged > 0) log.info(`Purged ${purged} events older than ${cutoff.toISOString()}`, { purged });
    return purged;
  }

  /** The purge the daily cron runs: older than SIMPLETUNER_EVENT_RETENTION_DAYS before `now`. */
  purgeExpired(now = new Date()): Promise<number> {
    const days = this.config.env.SIMPLETUNER_EVENT_RETENTION_DAYS;
    return this.purgeOlderThan(new Date(now.getTime() - days * 86_400_000));
  }
}
