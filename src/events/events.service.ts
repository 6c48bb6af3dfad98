import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { Clock } from '../common/clock';
import { Transactional } from '../database/transactional';
import { SettingsService } from '../settings';
import { getLogger } from '../logging';
import type { WritePart } from '../database/combined-write';
import { EventHub } from './event-hub';
import { EventsRepository } from './events.repository';
import { LoggedEvent, NewEvent, StoredEvent } from './events.types';

const log = getLogger('simpletuner.cloud.events');
/** The highest event id a retention purge has deleted. */
const PURGED_THROUGH = 'events.purged_through_id';

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
    private readonly settings: SettingsService,
    private readonly clock: Clock,
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

  /** As publishMany, for a caller that does not use the stored events (no rows come back to map). */
  async record(events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.repo.append([...events], !this.config.embeddedDatabase);
    this.repo.whenCommitted(() => this.hub.wake());
  }

  /** The events as a part of a combined statement (a submit's); subscribers are woken once it has committed. */
  publishPart(events: readonly NewEvent[]): WritePart {
    return { ...this.repo.insertPart([...events], !this.config.embeddedDatabase), afterCommit: () => this.hub.wake() };
  }

  /**
   * A job's stored events in delivery order, the newest `limit` of them; `more` tells that older ones were left out.
   * Who may read them is the caller's to check (the job's own visibility): every event of a job is about that job.
   */
  async ofJob(jobId: string, limit: number): Promise<{ events: StoredEvent[]; more: boolean }> {
    const rows = await this.repo.newestOfJob(jobId, limit + 1);
    return { events: rows.slice(0, limit).reverse().map(toStored), more: rows.length > limit };
  }

  /**
   * The committed events after `cursor` (`<tx>:<id>`, `0:0` for the start) in commit order, the same horizon rule
   * as a stream's replay: reading stops before the first event whose transaction may still be preceded by a
   * late-committing one, so a reader that stores the returned cursor never skips an event. With `createdBy`, it
   * also stops before the first event created after that time (a reader that takes only events old enough).
   */
  async readCommittedAfter(
    cursor: string,
    limit: number,
    createdBy?: Date,
  ): Promise<{ events: StoredEvent[]; cursor: string; more: boolean }> {
    const [tx, id] = cursor.split(':');
    const rows = await this.repo.readAfter({ tx: BigInt(tx), id: BigInt(id) }, limit);
    const firstUnsafe = rows.findIndex((r) => !r.safe || (createdBy !== undefined && r.createdAt > createdBy));
    const safe = firstUnsafe === -1 ? rows : rows.slice(0, firstUnsafe);
    const last = safe.at(-1)?.position;
    return {
      events: safe.map(({ safe: _s, ...e }) => toStored(e)),
      cursor: last ? `${last.tx}:${last.id}` : cursor,
      more: firstUnsafe === -1 && rows.length === limit,
    };
  }

  /**
   * Retention: deletes events created before `cutoff`; returns how many. The highest id ever purged is kept, so that
   * a stream resuming from an id the log no longer has can tell "purged" (a reset) from "nothing after it was ever
   * purged" (a plain replay: id 0 on a fresh install).
   */
  @Transactional()
  async purgeOlderThan(cutoff: Date): Promise<number> {
    const { deleted, maxId } = await this.repo.deleteOlderThan(cutoff);
    const before = await this.purgedThrough();
    if (maxId !== null && (before === null || maxId > before))
      await this.settings.set(PURGED_THROUGH, maxId.toString());
    if (deleted > 0) log.info(`Purged ${deleted} events older than ${cutoff.toISOString()}`, { purged: deleted });
    return deleted;
  }

  /**
   * Whether `id`, which the log does not hold, was never purged and every event after it is still kept: no purge
   * ever reached it, and every kept event comes after it.
   */
  async keptAfter(id: bigint): Promise<boolean> {
    const purged = await this.purgedThrough();
    if (purged !== null && id <= purged) return false;
    const min = await this.repo.minId();
    return min === null || id < min;
  }

  /** The highest id a purge deleted; null when no purge ever deleted anything. */
  private async purgedThrough(): Promise<bigint | null> {
    const stored = await this.settings.get(PURGED_THROUGH);
    return typeof stored === 'string' ? BigInt(stored) : null;
  }

  /** The purge the daily cron runs: older than SIMPLETUNER_EVENT_RETENTION_DAYS before `now`. */
  purgeExpired(now = this.clock.now()): Promise<number> {
    const days = this.config.env.SIMPLETUNER_EVENT_RETENTION_DAYS;
    return this.purgeOlderThan(new Date(now.getTime() - days * 86_400_000));
  }
}
