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

/**
 * Tells every instance at once when a key or a user loses or changes its authority, so that what was granted on
 * the old authority (an open event stream, a cached key) ends: on PostgreSQL a NOTIFY sent in the changing
 * transaction (delivered when it commits), on this instance a callback after the commit. When notifications are
 * down, holders of authority re-check it periodically on their own.
 */
@Injectable()
export class AuthChanges implements OnModuleInit {
  private readonly listeners = new Set<Listener>();

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

  /** Announces a change in the current transaction: nothing is announced if it rolls back. */
  async announce(change: AuthChange): Promise<void> {
    // On PostgreSQL every instance (this one included) hears the NOTIFY when the transaction commits.
    if (!this.config.embeddedDatabase) await this.repo.notify(AUTH_CHANNEL, JSON.stringify(change));
    else this.afterCommit.run(() => this.emit(change));
  }

  private receive(payload: string): void {
    try {
      const change = JSON.parse(payload) as AuthChange;
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
