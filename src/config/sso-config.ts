import { z } from 'zod';

/**
 * The user levels, lowest first, as src/common/permissions.ts ranks them (configuration depends on nothing of the
 * service; a unit test holds the two lists equal).
 */
export const LEVEL_NAMES = ['viewer', 'researcher', 'lead', 'admin'] as const;
type LevelName = (typeof LEVEL_NAMES)[number];

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const httpUrl = (what: string) =>
  optional.refine(
    (v) => v === undefined || /^https?:\/\/[^\s/]+(\/\S*)?$/.test(v),
    `must be the http(s) URL of ${what}`,
  );

/** `group=level` pairs separated by commas: which level a member of each group gets. */
const levelMap = optional
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((pair) => pair.trim())
      .filter(Boolean)
      .map((pair) => {
        const at = pair.lastIndexOf('=');
        return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()] as const;
      }),
  )
  .refine(
    (pairs) => pairs.every(([group, level]) => group !== '' && (LEVEL_NAMES as readonly string[]).includes(level)),
    `must be group=level pairs separated by commas, the level one of ${LEVEL_NAMES.join(', ')}`,
  )
  .transform((pairs) => new Map(pairs as (readonly [string, LevelName])[]));

/** The single sign-on variables (OpenID Connect); SSO is off while the issuer is unset. */
export const ssoEnv = {
  /** The public address people reach the service at: links in notifications, the sign-in callback; `https://` makes
   * the session cookie Secure. Unset: http://HOST:PORT. */
  SIMPLETUNER_PUBLIC_URL: httpUrl('the service as people reach it'),
  SIMPLETUNER_OIDC_ISSUER: httpUrl('the OpenID provider (its issuer)'),
  SIMPLETUNER_OIDC_CLIENT_ID: optional,
  /** Unset: a public client (PKCE alone). */
  SIMPLETUNER_OIDC_CLIENT_SECRET: optional,
  /** Unset: SIMPLETUNER_PUBLIC_URL + /api/auth/oidc/callback. */
  SIMPLETUNER_OIDC_REDIRECT_URL: httpUrl('the callback route, as registered with the provider'),
  SIMPLETUNER_OIDC_LEVEL_CLAIM: optional.transform((v) => v ?? 'groups'),
  SIMPLETUNER_OIDC_LEVEL_MAP: levelMap,
  /** A claim naming an existing organisation; unset or naming none: the default organisation. */
  SIMPLETUNER_OIDC_ORG_CLAIM: optional,
};

type SsoEnv = { [K in keyof typeof ssoEnv]: z.infer<(typeof ssoEnv)[K]> };

/** Settings that are valid alone but not together. */
export function ssoProblems(env: SsoEnv): string[] {
  if (!env.SIMPLETUNER_OIDC_ISSUER) return [];
  const problems: string[] = [];
  if (!env.SIMPLETUNER_OIDC_CLIENT_ID) problems.push('SIMPLETUNER_OIDC_CLIENT_ID: needed with SIMPLETUNER_OIDC_ISSUER');
  if (!env.SIMPLETUNER_OIDC_REDIRECT_URL && !env.SIMPLETUNER_PUBLIC_URL) {
    problems.push('SIMPLETUNER_OIDC_REDIRECT_URL: needed with SIMPLETUNER_OIDC_ISSUER (or set SIMPLETUNER_PUBLIC_URL)');
  }
  return problems;
}

/** Single sign-on as the service uses it; null when off. */
export interface SsoSettings {
  issuer: URL;
  clientId: string;
  clientSecret: string | undefined;
  redirectUrl: string;
  levelClaim: string;
  levelMap: ReadonlyMap<string, LevelName>;
  orgClaim: string | undefined;
  /** Session cookies carry `Secure`: the service is reached over https. */
  secureCookies: boolean;
}

export function ssoSettings(env: SsoEnv): SsoSettings | null {
  const publicUrl = env.SIMPLETUNER_PUBLIC_URL?.replace(/\/+$/, '');
  const secureCookies = publicUrl?.startsWith('https://') ?? false;
  if (!env.SIMPLETUNER_OIDC_ISSUER || !env.SIMPLETUNER_OIDC_CLIENT_ID) return null;
  return {
    issuer: new URL(env.SIMPLETUNER_OIDC_ISSUER),
    clientId: env.SIMPLETUNER_OIDC_CLIENT_ID,
    clientSecret: env.SIMPLETUNER_OIDC_CLIENT_SECRET,
    redirectUrl: env.SIMPLETUNER_OIDC_REDIRECT_URL ?? `${publicUrl}/api/auth/oidc/callback`,
    levelClaim: env.SIMPLETUNER_OIDC_LEVEL_CLAIM,
    levelMap: env.SIMPLETUNER_OIDC_LEVEL_MAP,
    orgClaim: env.SIMPLETUNER_OIDC_ORG_CLAIM,
    secureCookies,
  };
}
