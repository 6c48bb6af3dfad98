import type { CookieOptions, Request, Response } from 'express';
import type { SsoSettings } from '../config';
import { LOGIN_MINUTES } from './sso.service';
import { SESSION_HOURS } from './sessions.service';

/** The browser session (an opaque token). */
export const SESSION_COOKIE = 'st_session';
/** The `state` of a sign-in under way, which the callback must match: the sign-in is this browser's. */
export const STATE_COOKIE = 'st_oidc_state';
const STATE_PATH = '/api/auth/oidc';

/** One cookie of the request, undecoded (ours are URL-safe already). */
export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** HttpOnly (no script reads them), SameSite=Lax (not sent on other sites' sub-requests), Secure behind https. */
const options = (sso: SsoSettings | null, path: string): CookieOptions => ({
  httpOnly: true,
  sameSite: 'lax',
  secure: sso?.secureCookies ?? false,
  path,
});

export function setSessionCookie(res: Response, sso: SsoSettings, token: string): void {
  res.cookie(SESSION_COOKIE, token, { ...options(sso, '/'), maxAge: SESSION_HOURS * 3_600_000 });
}

export function clearSessionCookie(res: Response, sso: SsoSettings | null): void {
  res.clearCookie(SESSION_COOKIE, options(sso, '/'));
}

export function setStateCookie(res: Response, sso: SsoSettings, state: string): void {
  res.cookie(STATE_COOKIE, state, { ...options(sso, STATE_PATH), maxAge: LOGIN_MINUTES * 60_000 });
}

export function clearStateCookie(res: Response, sso: SsoSettings): void {
  res.clearCookie(STATE_COOKIE, options(sso, STATE_PATH));
}
