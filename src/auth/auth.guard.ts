import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AuthenticationError, PermissionDeniedError, RateLimitError } from '../common/errors';
import { apiKeyPrefix, hashApiKey, sameSecret } from './api-key.util';
import { IS_PUBLIC, MIN_LEVEL } from './auth.decorators';
import { AuthService } from './auth.service';
import { FailedAuthThrottle } from './failed-auth-throttle';
import type { AuthenticatedUser } from './authenticated-user';
import { readCookie, SESSION_COOKIE } from './session-cookie';
import { SessionsService } from './sessions.service';
import { CsrfTokenError } from './sso-errors';
import { atLeast, UserLevel } from './user.entity';

/** Methods that change nothing: a session cookie suffices for them without the CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const QUERY_KEY_ALLOWED = 'auth:queryKey';
/** Accept `?api_key=` (browsers' EventSource cannot set headers); only the SSE route uses it. */
export const AllowQueryApiKey = () => SetMetadata(QUERY_KEY_ALLOWED, true);

function extractApiKey(req: Request, allowQuery: boolean): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header.trim()) return header.trim();
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)$/i.exec(auth.trim());
    if (match) return match[1];
  }
  if (allowQuery && typeof req.query?.api_key === 'string') return req.query.api_key;
  return undefined;
}

function tooManyFailures(wait: number): RateLimitError {
  return new RateLimitError(
    'Too many failed authentication attempts from this address or for this key prefix; retry later',
    { retry_after_seconds: wait },
    wait,
  );
}

/**
 * Global guard: every route needs a valid key, or a browser session (single sign-on), unless @Public, and the
 * level of @MinLevel (default admin). A key in a header wins over a session cookie. A change (not GET) made with
 * a session must carry the session's X-CSRF-Token: another site can make a browser send the cookie, not the header.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly throttle: FailedAuthThrottle,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & { user?: unknown }>();
    const allowQuery = this.reflector.getAllAndOverride<boolean>(QUERY_KEY_ALLOWED, targets) ?? false;
    const key = extractApiKey(req, allowQuery);
    const user = key ? await this.keyUser(req, key) : await this.sessionUser(req);
    req.user = user;
    const required = this.reflector.getAllAndOverride<UserLevel>(MIN_LEVEL, targets) ?? 'admin';
    if (!atLeast(user.level, required)) {
      throw new PermissionDeniedError(`This action needs level ${required} or above`, { required_level: required });
    }
    return true;
  }

  private async keyUser(req: Request, key: string): Promise<AuthenticatedUser> {
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const keyHash = hashApiKey(key);
    const prefix = apiKeyPrefix(key);
    const refused = this.throttle.refusedFor(address, prefix, keyHash);
    if (refused !== null) throw tooManyFailures(refused);
    const user = await this.auth.authenticate(key);
    if (!user) {
      const wait = await this.throttle.recordFailure(address, prefix, keyHash);
      if (wait !== null) throw tooManyFailures(wait);
      throw new AuthenticationError('The API key is invalid, expired or revoked, or its user is inactive');
    }
    return user;
  }

  /** The session's 256-bit random token is not worth throttling guesses of. */
  private async sessionUser(req: Request): Promise<AuthenticatedUser> {
    const token = readCookie(req, SESSION_COOKIE);
    if (!token) throw new AuthenticationError();
    const caller = await this.sessions.authenticate(token);
    if (!caller)
      throw new AuthenticationError('The session has ended or expired, or its user is inactive: sign in again');
    if (!SAFE_METHODS.has(req.method)) {
      const sent = req.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !sameSecret(sent, caller.csrfToken)) throw new CsrfTokenError();
    }
    return caller.user;
  }
}
