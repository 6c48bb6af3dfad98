import { Injectable, OnModuleInit } from '@nestjs/common';
import { AfterCommit } from './after-commit';
import { NotificationListener } from './notification-listener';
import { Db } from './transaction-host';

/** The channel that names a changed setting (its cache key) to every instance. */
const SETTINGS_CHANNEL = 'simpletuner_settings';
/** While changes cannot be announced (the notification connection is down), a value is trusted this long. */
const UNANNOUNCED_TTL_MS = 5_000;

interface Entry {
  value: Promise<unknown>;
  loadedAt: number;
}

/**
 * Settings that every submit reads and people rarely change (approval rules, provider settings), kept in memory on
 * each instance. A change drops the value everywhere once it commits: on PostgreSQL by a NOTIFY sent in the changing
 * transaction (delivered to every instance, this one included, on commit), on PGlite (one process) after the commit.
 * While the notification connection is down a value is trusted for five seconds at most, and everything is dropped
 * when it reconnects. Inside a transaction the database is read directly: a unit of work sees its own changes.
 */
@Injectable()
export class SettingsCache implements OnModuleInit {
  private readonly entries = new Map<string, Entry>();
  private readonly watchers = new Map<string, (() => void)[]>();

  constructor(
    private readonly db: Db,
    private readonly afterCommit: AfterCommit,
    private readonly notifications: NotificationListener,
  ) {}

  onModuleInit(): void {
    this.notifications.subscribe(SETTINGS_CHANNEL, {
      onNotify: (key) => {
        this.entries.delete(key);
        this.notifyWatchers(key);
      },
      onReconnect: () => {
        this.entries.clear();
        for (const key of this.watchers.keys()) this.notifyWatchers(key);
      },
    });
  }

  /**
   * Calls `fn` whenever `key` changes, on this instance or another (once the change committed): for what keeps a
   * value derived from the setting outside this cache (a provider's credentials).
   */
  watch(key: string, fn: () => void): void {
    this.watchers.set(key, [...(this.watchers.get(key) ?? []), fn]);
  }

  private notifyWatchers(key: string): void {
    for (const fn of this.watchers.get(key) ?? []) fn();
  }

  /** The value of `key`, loaded by `load` when it is not held (or no longer trusted). */
  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (this.db.tx.queryRunner?.isTransactionActive) return load();
    const held = this.entries.get(key);
    if (held && this.trusted(held)) return held.value as Promise<T>;
    const entry: Entry = { value: load(), loadedAt: Date.now() };
    this.entries.set(key, entry);
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.value as Promise<T>;
  }

  /** Announces a change of `key` in the current unit of work: dropped everywhere once it commits. */
  async changed(key: string): Promise<void> {
    this.entries.delete(key);
    if (this.notifications.enabled) await this.db.tx.query(`SELECT pg_notify($1, $2)`, [SETTINGS_CHANNEL, key]);
    // A read between the change and its commit cached the old value: drop it again once the change is visible.
    this.afterCommit.run(() => {
      this.entries.delete(key);
      // With notifications every instance (this one too) hears of it on commit; without, only this one can.
      if (!this.notifications.enabled) this.notifyWatchers(key);
    });
  }

  private trusted(entry: Entry): boolean {
    if (!this.notifications.enabled) return true; // one process: every change passes through changed()
    return this.notifications.backendPid !== null || Date.now() - entry.loadedAt < UNANNOUNCED_TTL_MS;
  }
}
