import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import type { WritePart } from '../database/combined-write';
import { EventHub } from './event-hub';
import { EventsRepository } from './events.repository';
import { LoggedEvent, NewEvent, StoredEvent } from './events.types';

const log = getLogger('simpletuner.cloud.events');

function toStored({ position: _p, ...event }: LoggedEvent): StoredEvent {
  return event;
}

/** The event log's write side: the one publisher every module uses. */
@Injectable()
export class EventsService {
  constructor(
    private readonly repo: EventsRepository,
    private readonly hub: EventHub,
    private readonly config: AppConfig,
  ) {}

  /**
   * Stores the event in the current transaction (the caller's unit of work), or on its own outside one.
   * Subscribers are woken only after it commits; nothing is delivered if it rolls back.
   */
  async publish<E extends NewEvent>(event: E): Promise<StoredEvent> {
    const [stored] = await this.publishMany([event]);
    return stored;
  }

  async publishMany(events: readonly NewEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    // On PostgreSQL the NOTIFY rides in the transaction and wakes every instance on commit; the in-process
    // hook wakes this one without waiting for the round trip (and is the only wake-up on PGlite).
    const rows = await this.repo.insert([...events], !this.config.embeddedDatabase);
    this.repo.whenCommitted(() => this.hub.wake());
    return rows.map(toStored);
  }

  /** The events as a part of a combined statement (a submit's); subscribers are woken once it has committed. */
  publishPart(events: readonly NewEvent[]): WritePart {
    return { ...this.repo.insertPart([...events], !this.config.embeddedDatabase), afterCommit: () => this.hub.wake() };
  }

  /** Retention: deletes events created before `cutoff`; returns how many. */
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
