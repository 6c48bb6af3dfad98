import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { OUTBOUND_FETCH, type OutboundFetch } from '../common/outbound-fetch';
import { AuthenticationError } from '../common/errors';
import { getLogger } from '../logging';
import { SsoProviderError } from './sso-errors';

const log = getLogger('simpletuner.cloud.auth');

type OpenIdClient = typeof import('openid-client');
type Configuration = import('openid-client').Configuration;

/**
 * openid-client is an ES module only. TypeScript turns `import()` into `require()` in this CommonJS build, so a real
 * `import()` is kept through `new Function`.
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the one way to keep a real import() in CommonJS output
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/**
 * Loads openid-client with `import()`, or where that import has no loader to answer it, with Node's own `require()`
 * of an ES module (Node 20.19+, 22.12+). The second happens under Jest: a test file's import() can reach the
 * loader of an earlier test file whose environment is gone ("Test environment has been torn down"), and Jest's
 * own `require` cannot load ES modules, so Node's is taken from `process.getBuiltinModule`.
 */
async function loadOpenIdClient(): Promise<OpenIdClient> {
  try {
    return (await importModule('openid-client')) as OpenIdClient;
  } catch (error) {
    const builtin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    if (!builtin) throw error;
    const { createRequire } = builtin('node:module') as typeof import('node:module');
    return createRequire(__filename)('openid-client') as OpenIdClient;
  }
}

/** What a sign-in sends the browser to the provider with, and what the callback checks against. */
export interface LoginChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** Failures that are the provider's (or the network's): no answer, a timeout, an error status, not JSON. */
const PROVIDER_FAULTS = new Set(['OAUTH_TIMEOUT', 'OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_RESPONSE_IS_NOT_CONFORM']);

interface Fault {
  name?: string;
  message?: string;
  code?: string;
  cause?: unknown;
}

/**
 * The provider could not be reached (or answered nonsense): not the person's fault. By name along the causes, not
 * `instanceof`: fetch's TypeError may come from another realm than openid-client's (under Jest it does, and
 * openid-client then wraps it).
 */
function unreachable(error: unknown): boolean {
  let e = error as Fault | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as Fault | undefined) {
    if ((e.name === 'TypeError' && e.message === 'fetch failed') || PROVIDER_FAULTS.has(e.code ?? '')) return true;
  }
  return false;
}

/**
 * The OpenID provider, through openid-client: discovery once (retried after a failure), whose configuration also
 * keeps the provider's signing keys (JWKS) cached between sign-ins; authorization code flow with PKCE, `state`
 * and `nonce`.
 */
@Injectable()
export class OidcClient {
  private configuration?: Promise<{ lib: OpenIdClient; config: Configuration }>;

  constructor(
    private readonly app: AppConfig,
    @Inject(OUTBOUND_FETCH) private readonly fetch: OutboundFetch,
  ) {}

  /** Fresh random checks and the provider URL to send the browser to. */
  async authorizationUrl(): Promise<{ url: URL; checks: LoginChecks }> {
    const { lib, config } = await this.discovered();
    const sso = this.app.sso!;
    const checks = { state: lib.randomState(), nonce: lib.randomNonce(), codeVerifier: lib.randomPKCECodeVerifier() };
    const url = lib.buildAuthorizationUrl(config, {
      redirect_uri: sso.redirectUrl,
      scope: 'openid profile email',
      code_challenge: await lib.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
      state: checks.state,
      nonce: checks.nonce,
    });
    return { url, checks };
  }

  /**
   * Exchanges the callback's code (with the PKCE verifier) and verifies the ID token (signature against the
   * provider's keys, issuer, audience, expiry, nonce); returns the ID token's claims, completed from the userinfo
   * route. A refusal is a 401, an unreachable provider a 502.
   */
  async claims(query: URLSearchParams, checks: LoginChecks): Promise<Record<string, unknown>> {
    const { lib, config } = await this.discovered();
    const callback = new URL(this.app.sso!.redirectUrl);
    callback.search = query.toString();
    try {
      const tokens = await lib.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims()!;
      const info = await lib.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      return { ...info, ...idClaims };
    } catch (error) {
      if (unreachable(error)) throw this.providerError(error);
      log.info('A single sign-on callback was refused', { error });
      throw new AuthenticationError(`Single sign-on failed: ${(error as Error).message}`);
    }
  }

  private discovered(): Promise<{ lib: OpenIdClient; config: Configuration }> {
    this.configuration ??= this.discover().catch((error: unknown) => {
      this.configuration = undefined;
      throw this.providerError(error);
    });
    return this.configuration;
  }

  private async discover(): Promise<{ lib: OpenIdClient; config: Configuration }> {
    const lib = await loadOpenIdClient();
    const sso = this.app.sso!;
    const config = await lib.discovery(
      sso.issuer,
      sso.clientId,
      sso.clientSecret,
      sso.clientSecret ? undefined : lib.None(),
      {
        // Every call to the provider (discovery, keys, token, userinfo) goes through the app's outbound settings.
        [lib.customFetch]: this.fetch,
        timeout: this.app.env.SIMPLETUNER_HTTP_TIMEOUT,
        // A plain-http issuer is for a provider on this machine or network (tests, trials): openid-client refuses
        // one unless told.
        execute: sso.issuer.protocol === 'http:' ? [lib.allowInsecureRequests] : [],
      },
    );
    return { lib, config };
  }

  private providerError(error: unknown): SsoProviderError {
    if (error instanceof SsoProviderError) return error;
    log.warning('The OpenID provider could not be reached', { error });
    return new SsoProviderError(`The OpenID provider could not be reached: ${(error as Error).message}`);
  }
}
