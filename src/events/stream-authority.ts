import { AsyncResource } from 'node:async_hooks';
import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { AuthChanges, AuthService, SessionsService } from '../auth';
import type { AuthChange, AuthenticatedUser } from '../auth';
import { getLogger } from '../logging';

const log = getLogger('simpletuner.cloud.events');

/** The fallback when change notifications are lost: every open stream's key is checked again this often. */
const AUTHORITY_RECHECK_MS = 10_000;
/** setTimeout's longest delay; a key expiring later is caught by the re-check. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A stream that lives on the authority it was opened with. */
export interface AuthorityBound {
  readonly user: AuthenticatedUser;
  /** Ends the stream because its authority ended (an `error` event, then the end). */
  endAuthority(why: string): void;
}

/**
 * An event stream is bound to the key and user it was opened with: revoking or expiring that key, deactivating
 * the user or changing its organisation or level ends the stream, on every instance, within a second (the change
 * is announced through AuthChanges). A periodic re-check ends what a lost notification left open.
 */
@Injectable()
export class StreamAuthority implements OnModuleInit, BeforeApplicationShutdown {
  private readonly streams = new Set<AuthorityBound>();
  private readonly expiries = new Map<AuthorityBound, NodeJS.Timeout>();
  private recheckTimer?: NodeJS.Timeout;
  private rechecking = false;
  /** Boot's async context: timers must not keep a request's context (and its correlation id) alive. */
  private readonly scope = new AsyncResource('simpletuner.events.authority');

  constructor(
    private readonly changes: AuthChanges,
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
  ) {}

  onModuleInit(): void {
    this.changes.onChange((change) => this.apply(change));
    this.scope.runInAsyncScope(() => {
      this.recheckTimer = setInterval(() => void this.recheck(), AUTHORITY_RECHECK_MS).unref();
    });
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.recheckTimer);
    for (const timer of this.expiries.values()) clearTimeout(timer);
    this.expiries.clear();
  }

  /** The stream now lives on its authority; an expiring key or session ends it when it expires. */
  bind(stream: AuthorityBound): void {
    this.streams.add(stream);
    const { session, keyExpiresAt } = stream.user;
    const expiresAt = session?.expiresAt ?? keyExpiresAt;
    if (!expiresAt) return;
    const delay = Math.min(Math.max(0, expiresAt.getTime() - Date.now()), MAX_TIMER_MS);
    const why = session ? 'the session expired' : 'the API key expired';
    this.scope.runInAsyncScope(() => {
      const timer = setTimeout(() => stream.endAuthority(why), delay);
      timer.unref();
      this.expiries.set(stream, timer);
    });
  }

  release(stream: AuthorityBound): void {
    this.streams.delete(stream);
    clearTimeout(this.expiries.get(stream));
    this.expiries.delete(stream);
  }

  private apply(change: AuthChange): void {
    for (const stream of [...this.streams]) {
      if (stream.user.id !== change.userId) continue;
      if (change.keyId && stream.user.apiKeyId !== change.keyId) continue;
      if (change.sessionId && stream.user.session?.id !== change.sessionId) continue;
      stream.endAuthority(
        change.keyId ? 'the API key was revoked' : change.sessionId ? 'the session ended' : "the user's access changed",
      );
    }
  }

  /** Ends the streams whose key or session is no longer valid or whose user changed organisation or level. */
  async recheck(): Promise<void> {
    if (this.rechecking || this.streams.size === 0) return;
    this.rechecking = true;
    try {
      const open = [...this.streams];
      const ids = (pick: (s: AuthorityBound) => string | null | undefined) => [
        ...new Set(open.map(pick).filter((id): id is string => !!id)),
      ];
      const keys = await this.auth.validKeys(ids((s) => s.user.apiKeyId));
      const sessions = await this.sessions.liveSessions(ids((s) => s.user.session?.id));
      for (const stream of open) {
        const { apiKeyId, session } = stream.user;
        const now = session ? sessions.get(session.id) : apiKeyId ? keys.get(apiKeyId) : undefined;
        if (!now) stream.endAuthority(session ? 'the session has ended' : 'the API key is no longer valid');
        else if (now.orgId !== stream.user.orgId || now.level !== stream.user.level)
          stream.endAuthority("the user's access changed");
      }
    } catch (error) {
      log.warning('Re-checking the authority of event streams failed; will retry', { error });
    } finally {
      this.rechecking = false;
    }
  }
}
