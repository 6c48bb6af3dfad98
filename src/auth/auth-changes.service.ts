import { randomUUID } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config';
import { AfterCommit } from '../database/after-commit';
import { NotificationListener } from '../database/notification-listener';
import { getLogger } from '../logging';
import { UsersRepository } from './users.repository';

const log = getLogger('simpletuner.cloud.auth');

/** The channel that carries authority changes between instances. */
const AUTH_CHANNEL = 'simpletuner_auth';

/** Someone's authority changed: a key revoked, a session ended, a user deactivated or moved to another organisation or level. */
export interface AuthChange {
  userId: string;
  /** Only this key (a revocation); absent = every key of the user. */
  keyId?: string;
  /** Only this browser session (a sign-out). */
  sessionId?: string;
}

type Listener = (change: AuthChange) => void;

/** What travels on the channel: the change and the instance that made it (which has already applied it). */
interface AuthChangeNotice extends AuthChange {
  origin?: string;
}

/**
 * Tells every instance at once when a key or a user loses or changes its authority, so that what was granted on
 * the old authority (an open event stream, a cached key) ends: on PostgreSQL a NOTIFY sent in the changing
 * transaction (delivered when it commits), on this instance a callback after the commit. When notifications are
 * down, holders of authority re-check it periodically on their own.
 */
@Injectable()
export class AuthChanges implements OnModuleInit {
  private readonly listeners = new Set<Listener>();
  /** Names this instance on the channel, so that it skips the echo of its own changes. */
  private readonly origin = randomUUID();

  constructor(
    private readonly repo: UsersRepository,
    private readonly afterCommit: AfterCommit,
    private readonly notifications: NotificationListener,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.notifications.subscribe(AUTH_CHANNEL, {
      onNotify: (payload) => this.receive(payload),
      // Missed changes are found by the holders' periodic re-check.
      onReconnect: () => undefined,
    });
  }

  /** Listens to changes; returns the unsubscribe function. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Announces a change in the current transaction: nothing is announced if it rolls back. This instance applies it
   * as the commit returns, before the caller's response is sent: waiting for its own NOTIFY to come back would let
   * the caller's next request still pass on the old authority.
   */
  async announce(change: AuthChange): Promise<void> {
    if (!this.config.embeddedDatabase) {
      const notice: AuthChangeNotice = { ...change, origin: this.origin };
      await this.repo.notify(AUTH_CHANNEL, JSON.stringify(notice));
    }
    this.afterCommit.run(() => this.emit(change));
  }

  private receive(payload: string): void {
    try {
      const { origin, ...change } = JSON.parse(payload) as AuthChangeNotice;
      if (origin === this.origin) return;
      if (typeof change.userId === 'string') this.emit(change);
    } catch (error) {
      log.warning('Ignored an unreadable authority change notification', { error });
    }
  }

  private emit(change: AuthChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        log.warning('An authority change listener failed', { error });
      }
    }
  }
}
