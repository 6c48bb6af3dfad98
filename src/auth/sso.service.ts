import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { AUDIT_RECORDER, AuditRecorder } from '../common/audit';
import { AuthenticationError, ConflictError, NotFoundError, PermissionDeniedError } from '../common/errors';
import { Transactional } from '../database/transactional';
import { getLogger } from '../logging';
import { sameSecret } from './api-key.util';
import { AuthChanges } from './auth-changes.service';
import { OidcClient } from './oidc-client';
import { SessionsRepository } from './sessions.repository';
import { SessionsService, tokenHash } from './sessions.service';
import { OidcStateError } from './sso-errors';
import { identityFrom, type SsoIdentity } from './sso-identity';
import type { User } from './user.entity';
import { DuplicateError, UsersRepository } from './users.repository';
import { userView } from './users.service';

const log = getLogger('simpletuner.cloud.auth');

/** How long a sign-in may stay at the provider before its callback is refused. */
export const LOGIN_MINUTES = 10;

/**
 * Single sign-on with OpenID Connect: a sign-in goes to the provider and comes back to the callback, which checks
 * it, creates or updates the person's account (level and organisation from the claims) and opens a session.
 */
@Injectable()
export class SsoService {
  constructor(
    private readonly config: AppConfig,
    private readonly oidc: OidcClient,
    private readonly repo: SessionsRepository,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsService,
    private readonly changes: AuthChanges,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
  ) {}

  get enabled(): boolean {
    return this.config.sso !== null;
  }

  /** The provider URL to send the browser to, and the `state` the browser keeps (in a cookie) until the callback. */
  async beginLogin(now = new Date()): Promise<{ url: string; state: string }> {
    this.assertEnabled();
    const { url, checks } = await this.oidc.authorizationUrl();
    await this.repo.deleteExpired();
    await this.repo.saveLogin({
      stateHash: tokenHash(checks.state),
      nonce: checks.nonce,
      codeVerifier: checks.codeVerifier,
      expiresAt: new Date(now.getTime() + LOGIN_MINUTES * 60_000),
    });
    return { url: url.href, state: checks.state };
  }

  /**
   * The provider's answer: its `state` must be the one this browser started with (and is used up), then the code
   * is exchanged and the ID token verified. Returns the new session's token and end.
   */
  async completeLogin(
    query: URLSearchParams,
    browserState: string | undefined,
  ): Promise<{ token: string; expiresAt: Date; user: User }> {
    this.assertEnabled();
    const state = query.get('state');
    if (!state || !browserState || !sameSecret(state, browserState)) throw new OidcStateError();
    const login = await this.repo.takeLogin(tokenHash(state));
    if (!login) throw new OidcStateError();
    const refused = query.get('error');
    if (refused) {
      throw new AuthenticationError(
        `The OpenID provider refused the sign-in: ${query.get('error_description') ?? refused}`,
      );
    }
    const claims = await this.oidc.claims(query, { state, nonce: login.nonce, codeVerifier: login.codeVerifier });
    return this.signIn(identityFrom(claims, this.config.sso!));
  }

  @Transactional()
  private async signIn(identity: SsoIdentity): Promise<{ token: string; expiresAt: Date; user: User }> {
    const user = await this.provision(identity);
    const { token, session } = await this.sessions.open(user.id);
    log.info('Signed in with single sign-on', { user_id: user.id, level: user.level, session_id: session.id });
    return { token, expiresAt: session.expiresAt, user };
  }

  /** Creates the account on first sign-in; later ones bring its level, organisation and email up to date. */
  private async provision(identity: SsoIdentity): Promise<User> {
    const orgId = await this.orgFor(identity.orgName);
    const existing = await this.users.findUserBySubject(identity.subject);
    if (existing && !existing.isActive) throw new PermissionDeniedError('This account is deactivated');
    const before = existing ? userView(existing) : undefined;
    const user = Object.assign(existing ?? { isActive: true, oidcSubject: identity.subject, createdBy: null }, {
      username: identity.username,
      email: identity.email,
      level: identity.level,
      orgId,
    });
    let saved: User;
    try {
      saved = await this.users.saveUser(user);
    } catch (err) {
      if (!(err instanceof DuplicateError)) throw err;
      throw new ConflictError(
        `Username ${identity.username} is taken in this organisation by an account that does not sign in with single sign-on`,
        { username: identity.username },
      );
    }
    const after = userView(saved);
    if (before && (before.org_id !== after.org_id || before.level !== after.level)) {
      await this.changes.announce({ userId: saved.id });
    }
    if (!before || JSON.stringify(before) !== JSON.stringify(after)) {
      const action = before ? 'user.update' : 'user.create';
      await this.audit.record({ actor: null, action, targetType: 'user', targetId: saved.id, orgId, before, after });
    }
    return saved;
  }

  /** The organisation the claims name if it exists, else the default one. */
  private async orgFor(name: string | null): Promise<string> {
    const named = name ? await this.users.findOrgByName(name) : null;
    const org = named ?? (await this.users.findOrgByName('default')) ?? (await this.users.listOrgs())[0];
    return org.id;
  }

  private assertEnabled(): void {
    if (!this.enabled) throw new NotFoundError('Single sign-on is not configured', 'sso_not_configured');
  }
}
