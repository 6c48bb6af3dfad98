import { AsyncResource } from 'node:async_hooks';
import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Client, type QueryResult } from 'pg';
import { AppConfig } from '../config';
import { getLogger } from '../logging';

const log = getLogger('simpletuner.cloud.database');
const RECONNECT_DELAYS_MS = [100, 250, 500, 1000, 2000, 5000];
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

interface Subscription {
  onNotify(payload: string): void;
  /** After a reconnect: what was announced meanwhile was missed, so the subscriber catches up on its own. */
  onReconnect(): void;
}

/**
 * PostgreSQL only: one dedicated connection (never one of the TypeORM pool, which would lose the LISTEN when the
 * pool recycles it) that LISTENs on every subscribed channel. When it drops it reconnects, and each subscriber is
 * told to catch up: a notification is a wake-up, the tables are the truth. PGlite serves one connection and one
 * process, so there subscribers are told in-process and this class stays idle.
 */
@Injectable()
export class NotificationListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private client?: Client;
  private stopped = false;
  private attempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private pid: number | null = null;
  private readonly channels = new Map<string, Subscription[]>();
  private readonly scope = new AsyncResource('simpletuner.database.listener');

  constructor(private readonly config: AppConfig) {}

  get enabled(): boolean {
    return !this.config.embeddedDatabase;
  }

  /** Server pid of the listening connection (tests kill it with pg_terminate_backend); null while down. */
  get backendPid(): number | null {
    return this.pid;
  }

  /** Subscribes before the app boots (the connection LISTENs on every channel subscribed by then). */
  subscribe(channel: string, subscription: Subscription): void {
    if (!CHANNEL.test(channel)) throw new Error(`Not a channel name: ${channel}`);
    const list = this.channels.get(channel) ?? [];
    list.push(subscription);
    this.channels.set(channel, list);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled || this.channels.size === 0) return;
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
      application_name: 'simpletuner-listener',
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
      log.warning('Notification listener connection lost; reconnecting', error ? { error } : undefined);
      this.scheduleReconnect();
    };
    client.on('error', onDrop);
    client.on('end', () => onDrop());
    client.on('notification', (n) => {
      for (const s of this.channels.get(n.channel) ?? []) s.onNotify(n.payload ?? '');
    });
    try {
      await client.connect();
      const listen = [...this.channels.keys()].map((c) => `LISTEN ${c};`).join(' ');
      // Several statements in one query answer with one result each (pg's types know only one); the pid is last.
      type PidResult = QueryResult<{ pid: number }>;
      const reply = (await client.query(`${listen} SELECT pg_backend_pid() AS pid`)) as PidResult | PidResult[];
      const result = Array.isArray(reply) ? reply[reply.length - 1] : reply;
      if (this.stopped || dropped) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.pid = result.rows[0].pid;
      if (this.attempt > 0) log.info('Notification listener reconnected', { attempts: this.attempt });
      this.attempt = 0;
      // Whatever was announced while nobody listened is caught up on now.
      for (const list of this.channels.values()) for (const s of list) s.onReconnect();
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
