import { Injectable } from '@nestjs/common';
import { Db, returnedRows } from '../database/transaction-host';
import { OidcLogin, Session } from './session.entity';
import type { User } from './user.entity';

/** A live session with its user, as the guard needs them. */
export interface SessionWithUser {
  session: Session;
  user: Pick<User, 'id' | 'username' | 'level' | 'orgId' | 'createdBy'>;
}

interface SessionRow {
  id: string;
  user_id: string;
  csrf_token: string;
  expires_at: Date;
  username: string;
  level: User['level'];
  org_id: string;
  created_by: string | null;
}

/** The auth module's SQL for browser sessions and sign-ins under way. */
@Injectable()
export class SessionsRepository {
  constructor(private readonly db: Db) {}

  saveSession(session: Partial<Session>): Promise<Session> {
    return this.db.tx.getRepository(Session).save(session);
  }

  /** The session of this token hash while it lasts and its user is active. */
  async liveSession(tokenHash: string): Promise<SessionWithUser | null> {
    const rows = await this.db.tx.query<SessionRow[]>(
      `SELECT s.id, s.user_id, s.csrf_token, s.expires_at, u.username, u.level, u.org_id, u.created_by
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.expires_at > now() AND u.is_active`,
      [tokenHash],
    );
    const r = rows[0];
    if (!r) return null;
    const session = Object.assign(new Session(), {
      id: r.id,
      userId: r.user_id,
      csrfToken: r.csrf_token,
      expiresAt: new Date(r.expires_at),
    });
    return {
      session,
      user: { id: r.user_id, username: r.username, level: r.level, orgId: r.org_id, createdBy: r.created_by },
    };
  }

  /** For each of these sessions still live now: its user's current organisation and level. */
  async liveSessions(ids: string[]): Promise<Map<string, { orgId: string; level: string }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.tx.query<{ id: string; org_id: string; level: string }[]>(
      `SELECT s.id, u.org_id, u.level FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = ANY($1::uuid[]) AND s.expires_at > now() AND u.is_active`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, { orgId: r.org_id, level: r.level }]));
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.tx.getRepository(Session).delete({ id });
  }

  /** Ends every session of the user; returns their ids. */
  async deleteSessionsOfUser(userId: string): Promise<string[]> {
    const rows = returnedRows<{ id: string }>(
      await this.db.tx.query(`DELETE FROM sessions WHERE user_id = $1 RETURNING id`, [userId]),
    );
    return rows.map((r) => r.id);
  }

  /** Sessions and sign-ins past their time: nothing refers to them any more. */
  async deleteExpired(): Promise<void> {
    await this.db.tx.query(`DELETE FROM sessions WHERE expires_at <= now()`);
    await this.db.tx.query(`DELETE FROM oidc_logins WHERE expires_at <= now()`);
  }

  async saveLogin(login: OidcLogin): Promise<void> {
    await this.db.tx.getRepository(OidcLogin).insert(login);
  }

  /** Takes the sign-in of this state (once: it is gone afterwards); null when unknown or expired. */
  async takeLogin(stateHash: string): Promise<OidcLogin | null> {
    const rows = returnedRows<{ state_hash: string; nonce: string; code_verifier: string; expires_at: Date }>(
      await this.db.tx.query(`DELETE FROM oidc_logins WHERE state_hash = $1 RETURNING *`, [stateHash]),
    );
    const r = rows[0];
    if (!r || new Date(r.expires_at).getTime() <= Date.now()) return null;
    return Object.assign(new OidcLogin(), {
      stateHash: r.state_hash,
      nonce: r.nonce,
      codeVerifier: r.code_verifier,
      expiresAt: new Date(r.expires_at),
    });
  }
}
