import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Transactional } from '../database/transactional';
import { hashApiKey } from './api-key.util';
import { AuthChanges } from './auth-changes.service';
import type { AuthenticatedUser } from './authenticated-user';
import type { Session } from './session.entity';
import { SessionsRepository } from './sessions.repository';

/** How long a browser session lasts after sign-in. */
export const SESSION_HOURS = 12;

/** 256 random bits, URL-safe: a session token, a CSRF token. */
const randomToken = (): string => randomBytes(32).toString('base64url');

/** The token's digest as stored (the same SHA-256 as for API keys). */
export const tokenHash = hashApiKey;

/** A session resolved from its cookie: who, and the CSRF token a change made with it must carry. */
export interface SessionCaller {
  user: AuthenticatedUser;
  csrfToken: string;
}

/**
 * Browser sessions opened by single sign-on. The cookie holds a random token and the database its hash, so a copy
 * of the database opens no session. A session lives 12 hours, ends at sign-out or when its user is deactivated,
 * and always acts with its user's current level and organisation.
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly repo: SessionsRepository,
    private readonly changes: AuthChanges,
  ) {}

  /** A new session of the user; the token exists only in this return value (and the cookie). */
  async open(userId: string, now = new Date()): Promise<{ token: string; session: Session }> {
    const token = randomToken();
    const session = await this.repo.saveSession({
      userId,
      tokenHash: tokenHash(token),
      csrfToken: randomToken(),
      expiresAt: new Date(now.getTime() + SESSION_HOURS * 3_600_000),
    });
    return { token, session };
  }

  /** The caller behind a session cookie; null when unknown, expired or its user is inactive. */
  async authenticate(token: string): Promise<SessionCaller | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const found = await this.repo.liveSession(tokenHash(token));
    if (!found) return null;
    const { session, user } = found;
    return {
      csrfToken: session.csrfToken,
      user: {
        id: user.id,
        username: user.username,
        level: user.level,
        orgId: user.orgId,
        apiKeyId: null,
        session: { id: session.id, expiresAt: session.expiresAt },
        userCreatedBy: user.createdBy,
      },
    };
  }

  /** Sign-out: the session ends here and its event streams on every instance. */
  @Transactional()
  async end(user: AuthenticatedUser): Promise<void> {
    if (!user.session) return;
    await this.repo.deleteSession(user.session.id);
    await this.changes.announce({ userId: user.id, sessionId: user.session.id });
  }

  /** Ends every session of a user (deactivated); call inside the change's transaction. */
  async endAllOf(userId: string): Promise<void> {
    await this.repo.deleteSessionsOfUser(userId);
  }

  /** For each of these sessions still live: its user's current organisation and level. */
  liveSessions(ids: string[]): Promise<Map<string, { orgId: string; level: string }>> {
    return this.repo.liveSessions(ids);
  }
}
