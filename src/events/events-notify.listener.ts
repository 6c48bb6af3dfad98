import { AsyncResource } from 'node:async_hooks';
import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { EventHub } from './event-hub';
import { EVENTS_CHANNEL } from './events.repository';

const log = getLogger('simpletuner.cloud.events');
const RECONNECT_DELAYS_MS = [100, 250, 500, 1000, 2000, 5000];

/**
 * PostgreSQL only: a dedicated connection (never one of the TypeORM pool, which would lose the LISTEN when the
 * pool recycles it) that LISTENs and wakes the hub. When the connection drops it reconnects and the hub reads
 * everything it missed: the notification is a wake-up, the table is the truth. PGlite serves one connection
 * and one process, so there the hub is woken in-process instead and this class stays idle.
 */
@Injectable()
export class EventsNotifyListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private client?: Client;
  private stopped = false;
  private attempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private pid: number | null = null;
  private readonly scope = new AsyncResource('simpletuner.events.listener');

  constructor(
    private readonly config: AppConfig,
    private readonly hub: EventHub,
  ) {}

  get enabled(): boolean {
    return !this.config.embeddedDatabase;
  }

  /** Server pid of the listening connection (tests kill it with pg_terminate_backend); null while down. */
  get backendPid(): number | null {
    return this.pid;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    await this.connect();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    this.pid = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.config.env.DATABASE_URL,
      application_name: 'simpletuner-events-listener',
      keepAlive: true,
    });
    let dropped = false;
    const onDrop = (error?: Error) => {
      if (dropped) return;
      dropped = true;
      if (this.client === client) {
        this.client = undefined;
        this.pid = null;
      }
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      log.warning('Event listener connection lost; reconnecting', error ? { error } : undefined);
      this.scheduleReconnect();
    };
    client.on('error', onDrop);
    client.on('end', () => onDrop());
    client.on('notification', () => this.hub.wake());
    try {
      await client.connect();
      const rows = await client.query<{ pid: number }>(`LISTEN ${EVENTS_CHANNEL}; SELECT pg_backend_pid() AS pid`);
      const result = Array.isArray(rows) ? rows[rows.length - 1] : rows;
      if (this.stopped || dropped) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.pid = result.rows[0].pid;
      if (this.attempt > 0) log.info('Event listener reconnected', { attempts: this.attempt });
      this.attempt = 0;
      // Whatever committed while nobody listened is read now.
      this.hub.wake();
    } catch (error) {
      onDrop(error as Error);
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempt++, RECONNECT_DELAYS_MS.length - 1)];
    this.scope.runInAsyncScope(() => {
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        void this.connect();
      }, delay);
      this.reconnectTimer.unref();
    });
  }
}
