import type { SsoSettings } from '../config';
import { USER_LEVELS, type UserLevel } from './user.entity';

/** Who signed in, as this service records it. */
export interface SsoIdentity {
  /** Issuer and `sub`: what finds the account again. */
  subject: string;
  username: string;
  email: string | null;
  level: UserLevel;
  /** The organisation the claims name (null: none, or the claim is absent). */
  orgName: string | null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** A claim as a list of names: an array of strings, or one string (some providers send a single group so). */
function names(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(text).filter((s): s is string => s !== null);
  const one = text(v);
  return one ? [one] : [];
}

/** The highest level any of the person's groups maps to; no mapped group: viewer. */
function levelOf(groups: string[], map: ReadonlyMap<string, UserLevel>): UserLevel {
  let best = 0;
  for (const group of groups) {
    const level = map.get(group);
    if (level) best = Math.max(best, USER_LEVELS.indexOf(level));
  }
  return USER_LEVELS[best];
}

/**
 * The identity behind verified claims: username from `preferred_username`, else `email`, else `sub`; level from
 * the level claim's groups through the map; organisation from the org claim.
 */
export function identityFrom(claims: Record<string, unknown>, sso: SsoSettings): SsoIdentity {
  const sub = text(claims.sub)!;
  const email = text(claims.email);
  return {
    subject: `${sso.issuer.href.replace(/\/+$/, '')}#${sub}`,
    username: text(claims.preferred_username) ?? email ?? sub,
    email,
    level: levelOf(names(claims[sso.levelClaim]), sso.levelMap),
    orgName: sso.orgClaim ? (names(claims[sso.orgClaim])[0] ?? null) : null,
  };
}
