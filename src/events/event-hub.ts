import { AsyncResource } from 'node:async_hooks';
import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config';
import { NotificationListener } from '../database/notification-listener';
import { getLogger } from '../logging';
import { MetricsService } from '../metrics';
import { EVENTS_CHANNEL, EventsRepository } from './events.repository';
import { comparePositions, EventPosition, LoggedEvent, START_POSITION } from './events.types';

const log = getLogger('simpletuner.cloud.events');

/** One stream's end of the fan-out (an SSE connection). */
export interface EventSink {
  /** New events in delivery order (one read's worth: a stream writes them at once). */
  deliver(events: readonly LoggedEvent[]): void;
  heartbeat(): void;
  /** Ends the stream (shutdown). */
  close(): void;
}

export interface EventHubStats {
  /** Stream slots held (per-user, per-organisation and total caps), from the request that opens a stream to its end. */
  connections: number;
  /** Sinks receiving the fan-out. */
  listeners: number;
  /** Users holding at least one slot. */
  users: number;
  /** Timers the hub holds (poll, heartbeat, retry): constant while streams come and go. */
  timers: number;
}

/** Whose slot a stream holds (the organisation at the time it opened). */
export interface StreamOwner {
  userId: string;
  orgId: string;
}

/** Open streams allowed on this instance: per user, per organisation, in all. */
export interface StreamCaps {
  perUser: number;
  perOrg: number;
  total: number;
}

const READ_BATCH = 500;
/** Safety net for a lost notification or one the listening connection missed while reconnecting. */
const CATCH_UP_POLL_MS = 5_000;
/** Re-read soon when committed rows wait behind an older running transaction (nobody else will wake us). */
const HELD_BACK_RETRY_MS = [2, 5, 10, 20, 50, 100];
/** After a failed read (database down): retry, but without hammering it. */
const FAILED_READ_RETRY_MS = 1000;

/**
 * Reads new events from the table once per instance and fans them out in memory. Every wake-up (a NOTIFY, an
 * in-process commit, the poll) just schedules a read; reads never overlap and never skip: the head only moves
 * over rows that are safe (their transaction is older than every running one), in (tx_id, id) order.
 */
@Injectable()
export class EventHub implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private head: EventPosition | null = null;
  private readonly sinks = new Set<EventSink>();
  private readonly slots = new Map<string, number>();
  private readonly orgSlots = new Map<string, number>();
  private totalSlots = 0;
  private reading = false;
  /** A wake-up was skipped because no stream was open: the head may be behind the table. */
  private idle = false;
  private again = false;
  private stopped = false;
  private retryStep = 0;
  private failing = false;
  private retryTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  /**
   * Boot's async context. Wake-ups come from requests (commit hooks); running the read in the request's context
   * would stamp its correlation id on the hub's lines and keep that request's CLS store alive.
   */
  private readonly scope = new AsyncResource('simpletuner.events.hub');

  constructor(
    private readonly repo: EventsRepository,
    private readonly config: AppConfig,
    private readonly notifications: NotificationListener,
    metrics: MetricsService,
  ) {
    const connections = () => this.stats().connections;
    metrics.gauge({
      name: 'simpletuner_sse_connections',
      help: 'Open SSE event streams on this instance',
      collect() {
        this.set(connections());
      },
    });
  }

  /** On PostgreSQL a NOTIFY from any instance's commit wakes the read (and a reconnect reads what was missed). */
  onModuleInit(): void {
    this.notifications.subscribe(EVENTS_CHANNEL, { onNotify: () => this.wake(), onReconnect: () => this.wake() });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  /** Before the HTTP server closes: open streams would otherwise keep app.close() waiting. */
  beforeApplicationShutdown(): void {
    this.stop();
    const closed = this.closeAll();
    if (closed > 0) log.info(`Closed ${closed} event streams for shutdown`);
  }

  /** Starts at the current safe head (a live-only stream never replays what was there before it). */
  async start(): Promise<void> {
    this.head = (await this.repo.safeHead()) ?? START_POSITION;
    this.scope.runInAsyncScope(() => {
      this.pollTimer = setInterval(() => this.wake(), CATCH_UP_POLL_MS).unref();
      const beat = this.config.env.SIMPLETUNER_SSE_HEARTBEAT_SECONDS * 1000;
      this.heartbeatTimer = setInterval(() => this.forEachSink((s) => s.heartbeat()), beat).unref();
    });
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.retryTimer);
    this.pollTimer = this.heartbeatTimer = this.retryTimer = undefined;
  }

  /** Ends every open stream (shutdown, so app.close() does not wait on them). */
  closeAll(): number {
    const open = [...this.sinks];
    for (const sink of open) {
      try {
        sink.close();
      } catch (error) {
        log.warning('Closing an event stream failed', { error });
      }
    }
    return open.length;
  }

  get currentHead(): EventPosition {
    return this.head ?? START_POSITION;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Schedules a read of new rows; cheap and safe to call any number of times from anywhere. */
  wake(): void {
    if (this.stopped || this.head === null) return;
    if (this.sinks.size === 0) {
      // Nobody listens: reading every commit's events would be work for no one. The next stream catches up.
      this.idle = true;
      return;
    }
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    this.scope.runInAsyncScope(() => setImmediate(() => void this.pump()));
  }

  /**
   * Takes a stream slot for the user; null when taken, else which cap is full: the user's, its organisation's, or
   * this instance's total. Counted on this instance (as every cap here).
   */
  reserve(owner: StreamOwner, caps: StreamCaps): 'user' | 'org' | 'total' | null {
    if (this.stopped) return 'total';
    const held = this.slots.get(owner.userId) ?? 0;
    if (held >= caps.perUser) return 'user';
    const orgHeld = this.orgSlots.get(owner.orgId) ?? 0;
    if (orgHeld >= caps.perOrg) return 'org';
    if (this.totalSlots >= caps.total) return 'total';
    this.slots.set(owner.userId, held + 1);
    this.orgSlots.set(owner.orgId, orgHeld + 1);
    this.totalSlots++;
    return null;
  }

  release(owner: StreamOwner): void {
    const held = (this.slots.get(owner.userId) ?? 0) - 1;
    if (held > 0) this.slots.set(owner.userId, held);
    else this.slots.delete(owner.userId);
    const orgHeld = (this.orgSlots.get(owner.orgId) ?? 0) - 1;
    if (orgHeld > 0) this.orgSlots.set(owner.orgId, orgHeld);
    else this.orgSlots.delete(owner.orgId);
    this.totalSlots = Math.max(0, this.totalSlots - 1);
  }

  /**
   * Adds a sink; returns the head at that moment: every later event reaches the sink through deliver(). After a
   * time without sinks the head moves to `safeHead` (the table's, read by the stream as it opened) rather than
   * reading everything committed meanwhile.
   */
  attach(sink: EventSink, safeHead: EventPosition | null = null): EventPosition {
    this.sinks.add(sink);
    if (this.idle) {
      this.idle = false;
      if (safeHead && this.head && comparePositions(safeHead, this.head) > 0) this.head = safeHead;
      this.wake();
    }
    return this.currentHead;
  }

  detach(sink: EventSink): void {
    this.sinks.delete(sink);
  }

  stats(): EventHubStats {
    let connections = 0;
    for (const n of this.slots.values()) connections += n;
    const timers = [this.pollTimer, this.heartbeatTimer, this.retryTimer].filter(Boolean).length;
    return { connections, listeners: this.sinks.size, users: this.slots.size, timers };
  }

  private async pump(): Promise<void> {
    let heldBack: boolean;
    try {
      do {
        this.again = false;
        heldBack = await this.readAvailable();
      } while (this.again && !this.stopped);
      if (this.failing) log.info('Reading new events works again');
      this.failing = false;
    } catch (error) {
      heldBack = true;
      // Once per outage, not once per retry.
      if (!this.stopped && !this.failing) log.warning('Reading new events failed; retrying', { error });
      this.failing = true;
    } finally {
      this.reading = false;
    }
    if (this.failing) this.scheduleRetry(FAILED_READ_RETRY_MS);
    else if (heldBack) this.scheduleRetry();
    else this.retryStep = 0;
  }

  /** Delivers every safe row after the head; true when committed rows still wait behind an older transaction. */
  private async readAvailable(): Promise<boolean> {
    for (;;) {
      if (this.stopped || this.head === null) return false;
      const rows = await this.repo.readAfter(this.head, READ_BATCH);
      let safe = 0;
      while (safe < rows.length && rows[safe].safe) safe++;
      if (safe > 0) this.retryStep = 0; // progress: the next wait starts short again
      if (safe > 0) {
        const batch: LoggedEvent[] = rows.slice(0, safe).map(({ safe: _s, ...event }) => event);
        this.head = batch[batch.length - 1].position;
        this.forEachSink((sink) => sink.deliver(batch));
      }
      if (safe < rows.length) return true;
      if (rows.length < READ_BATCH) return false;
    }
  }

  private scheduleRetry(fixedDelay?: number): void {
    if (this.stopped || this.retryTimer) return;
    const delay = fixedDelay ?? HELD_BACK_RETRY_MS[Math.min(this.retryStep++, HELD_BACK_RETRY_MS.length - 1)];
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.wake();
    }, delay).unref();
  }

  private forEachSink(fn: (sink: EventSink) => void): void {
    for (const sink of this.sinks) {
      try {
        fn(sink);
      } catch (error) {
        log.warning('An event stream failed to take an event', { error });
      }
    }
  }
}
