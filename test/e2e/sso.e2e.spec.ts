import { randomUUID } from 'node:crypto';
import { makeOrg } from '../support/approval-fixtures';
import { http } from '../support/http';
import {
  browse,
  CookieJar,
  freePort,
  oidcEnv,
  OidcProvider,
  providerRoundTrip,
  signInWithSso,
  startOidcProvider,
} from '../support/oidc-provider';
import { openSse } from '../support/sse-client';
import { startTestApp, TestApp } from '../support/test-app';

/** The test provider's accounts: claims by the login typed at its sign-in form. */
const ACCOUNTS = {
  ada: { preferred_username: 'ada', email: 'ada@example.com', groups: ['st-admins', 'other'], org: 'research' },
  lee: { preferred_username: 'lee', groups: ['st-leads'], org: 'no-such-org' },
  vic: { email: 'vic@example.com', groups: ['not-mapped'] },
  'sub-only': {},
  rita: { preferred_username: 'rita', groups: 'st-researchers' },
  admin: { preferred_username: 'admin', groups: ['st-admins'] },
};

/** The session cookie a sign-in set, as `Cookie` header. */
const cookieOf = (jar: CookieJar, app: TestApp) => `st_session=${jar.get(app.url, 'st_session')}`;

async function signedIn(app: TestApp, login: string): Promise<{ jar: CookieJar; cookie: string; csrf: string }> {
  const jar = new CookieJar();
  const callback = await signInWithSso(jar, app.url, login);
  expect(callback.status).toBe(302);
  const cookie = cookieOf(jar, app);
  const session = await http(app.url, 'GET', '/api/auth/session', { headers: { Cookie: cookie } });
  expect(session.status).toBe(200);
  return { jar, cookie, csrf: session.body.csrf_token };
}

/**
 * Single sign-on against a real OpenID provider (oidc-provider in a child process): the browser's round trip with
 * a cookie jar and no automatic redirects, the session it opens, CSRF on cookie-authenticated changes, sign-out
 * and deactivation (with the event stream the session opened).
 */
describe('single sign-on (OpenID Connect)', () => {
  let app: TestApp;
  let provider: OidcProvider | undefined;
  let providerPort: number;
  let researchOrg: string;

  beforeAll(async () => {
    const appPort = await freePort();
    providerPort = await freePort();
    // Reached over https behind a proxy, as people would: the cookies are Secure (this test's jar sends them anyway).
    const env = {
      ...oidcEnv(providerPort, `http://127.0.0.1:${appPort}`),
      SIMPLETUNER_PUBLIC_URL: 'https://st.example',
    };
    app = await startTestApp({ port: appPort, env });
    researchOrg = await makeOrg(app, 'research');
  });
  afterAll(async () => {
    await provider?.stop();
    await app?.stop();
  });

  it('answers 502 while the provider is unreachable, then discovers it once it is up', async () => {
    const down = await http(app.url, 'GET', '/api/auth/oidc/login');
    expect(down.status).toBe(502);
    expect(down.body.error).toBe('sso_provider_error');
    provider = await startOidcProvider(providerPort, app.url, ACCOUNTS);
    const config = await http(app.url, 'GET', '/api/auth/config');
    expect(config.body).toEqual({ sso_enabled: true, login_url: '/api/auth/oidc/login' });
    const jar = new CookieJar();
    const login = await browse(jar, new URL('/api/auth/oidc/login', app.url));
    expect(login.status).toBe(302);
    const to = new URL(login.headers.get('location')!);
    expect(to.origin).toBe(`http://127.0.0.1:${providerPort}`);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('state')).toBe(jar.get(app.url, 'st_oidc_state'));
    expect(to.searchParams.get('nonce')).toBeTruthy();
    expect(login.headers.getSetCookie()[0]).toMatch(
      /^st_oidc_state=.*; Path=\/api\/auth\/oidc; .*HttpOnly; Secure; SameSite=Lax/,
    );
  });

  it('signs in through the provider as the mapped level and organisation, with a 12 h session cookie', async () => {
    const jar = new CookieJar();
    const callback = await signInWithSso(jar, app.url, 'ada');
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/');
    const set = callback.headers.getSetCookie().find((c) => c.startsWith('st_session='))!;
    expect(set).toMatch(/Max-Age=43200; Path=\/; Expires=.*; HttpOnly; Secure; SameSite=Lax$/);
    const cookie = cookieOf(jar, app);
    const session = await http(app.url, 'GET', '/api/auth/session', { headers: { Cookie: cookie } });
    expect(session.status).toBe(200);
    expect(session.body.user).toMatchObject({ username: 'ada', email: 'ada@example.com', level: 'admin' });
    expect(session.body.user.org_id).toBe(researchOrg);
    expect(session.body.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const hours = (Date.parse(session.body.expires_at) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    const me = await http(app.url, 'GET', '/api/users/me', { headers: { Cookie: cookie } });
    expect(me.body).toMatchObject({ username: 'ada', level: 'admin' });
  });

  it.each([
    ['lee', 'lee', 'lead', 'an unknown organisation: the default one'],
    ['vic', 'vic@example.com', 'viewer', 'no preferred_username: the email; no mapped group: viewer'],
    ['sub-only', 'sub-only', 'viewer', 'neither: the subject'],
  ])('provisions %s as %s (%s)', async (login, username, level) => {
    const { cookie } = await signedIn(app, login);
    const me = await http(app.url, 'GET', '/api/users/me', { headers: { Cookie: cookie } });
    expect(me.body).toMatchObject({ username, level });
    expect(me.body.org_id).not.toBe(researchOrg);
  });

  it('refuses a callback whose state was altered, comes from another browser or is replayed', async () => {
    const jar = new CookieJar();
    const callback = await providerRoundTrip(jar, app.url, 'ada');
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${callback.searchParams.get('state')!.slice(0, -2)}xx`);
    const altered = await browse(jar, tampered);
    expect(altered.status).toBe(400);
    expect(((await altered.json()) as { error: string }).error).toBe('invalid_oidc_state');
    const elsewhere = await browse(new CookieJar(), callback);
    expect(elsewhere.status).toBe(400);

    const again = new CookieJar();
    const genuine = await providerRoundTrip(again, app.url, 'ada');
    const state = again.get(app.url, 'st_oidc_state')!;
    expect((await browse(again, genuine)).status).toBe(302);
    again.set(app.url, 'st_oidc_state', state);
    expect((await browse(again, genuine)).status).toBe(400);
  });

  it("refuses the provider's refusal and a code it did not issue (401)", async () => {
    for (const change of [
      (u: URL) => {
        u.searchParams.delete('code');
        u.searchParams.set('error', 'access_denied');
      },
      (u: URL) => u.searchParams.set('code', 'not-a-code-the-provider-issued'),
    ]) {
      const jar = new CookieJar();
      const callback = await providerRoundTrip(jar, app.url, 'ada');
      change(callback);
      const res = await browse(jar, callback);
      expect(res.status).toBe(401);
      expect(jar.get(app.url, 'st_session')).toBeUndefined();
    }
  });

  it('refuses a username taken by an account that does not sign in with SSO (409)', async () => {
    const res = await signInWithSso(new CookieJar(), app.url, 'admin');
    expect(res.status).toBe(409);
    expect(((await res.json()) as { details: unknown }).details).toEqual({ username: 'admin' });
  });

  it('needs the CSRF token for a cookie-authenticated change; API keys are unchanged', async () => {
    const { cookie, csrf } = await signedIn(app, 'ada');
    const without = await http(app.url, 'POST', '/api/orgs', { headers: { Cookie: cookie }, body: { name: 'o1' } });
    expect(without.status).toBe(403);
    expect(without.body.error).toBe('csrf_token_invalid');
    const wrong = await http(app.url, 'POST', '/api/orgs', {
      headers: { Cookie: cookie, 'X-CSRF-Token': 'x'.repeat(43) },
      body: { name: 'o1' },
    });
    expect(wrong.status).toBe(403);
    // Every change refuses a session without its token before anything else, whoever may make it.
    const id = randomUUID();
    for (const [method, path] of [
      ['POST', '/api/approvals/requests/bulk'],
      ['PATCH', `/api/notifications/channels/${id}`],
      ['DELETE', `/api/notifications/channels/${id}`],
      ['POST', `/api/notifications/channels/${id}/rotate-secret`],
      ['POST', `/api/notifications/channels/${id}/test`],
      ['POST', `/api/notifications/deliveries/${id}/redeliver`],
    ]) {
      const refused = await http(app.url, method, path, { headers: { Cookie: cookie }, body: {} });
      expect({ method, path, status: refused.status, error: refused.body.error }).toEqual({
        method,
        path,
        status: 403,
        error: 'csrf_token_invalid',
      });
    }
    const made = await http(app.url, 'POST', '/api/orgs', {
      headers: { Cookie: cookie, 'X-CSRF-Token': csrf },
      body: { name: 'o1' },
    });
    expect(made.status).toBe(201);
    const byKey = await http(app.url, 'POST', '/api/orgs', { key: app.adminKey, body: { name: 'o2' } });
    expect(byKey.status).toBe(201);
    const unknown = await http(app.url, 'GET', '/api/users/me', { headers: { Cookie: 'st_session=nope' } });
    expect(unknown.status).toBe(401);
  });

  it('signs out: the session ends (401 afterwards), the stream it opened ends and its cookie is cleared', async () => {
    const { cookie, csrf } = await signedIn(app, 'lee');
    const stream = await openSse(app.url, '/api/events', { headers: { Cookie: cookie } });
    expect(stream.status).toBe(200);
    await stream.waitFor((s) => s.comments.includes('connected'), 3000, ': connected');
    const refused = await http(app.url, 'POST', '/api/auth/logout', { headers: { Cookie: cookie } });
    expect(refused.status).toBe(403);
    const out = await http(app.url, 'POST', '/api/auth/logout', { headers: { Cookie: cookie, 'X-CSRF-Token': csrf } });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie()[0]).toMatch(/^st_session=; Path=\/; Expires=Thu, 01 Jan 1970.*; Secure/);
    await stream.waitFor((s) => s.ended, 3000, 'the stream to end');
    expect((await http(app.url, 'GET', '/api/auth/session', { headers: { Cookie: cookie } })).status).toBe(401);
    expect((await http(app.url, 'GET', '/api/users/me', { headers: { Cookie: cookie } })).status).toBe(401);
    expect((await http(app.url, 'GET', '/api/auth/session')).status).toBe(401);
    expect((await http(app.url, 'POST', '/api/auth/logout', { key: app.adminKey })).status).toBe(204);
  });

  it("deactivating the user ends its sessions and the event stream one opened; it can't sign in again", async () => {
    const { cookie } = await signedIn(app, 'rita');
    const me = await http(app.url, 'GET', '/api/users/me', { headers: { Cookie: cookie } });
    expect(me.body.level).toBe('researcher');
    const stream = await openSse(app.url, '/api/events', { headers: { Cookie: cookie } });
    expect(stream.status).toBe(200);
    await stream.waitFor((s) => s.comments.includes('connected'), 3000, ': connected');
    const off = await http(app.url, 'PATCH', `/api/users/${me.body.id}`, {
      key: app.adminKey,
      body: { is_active: false },
    });
    expect(off.status).toBe(200);
    await stream.waitFor((s) => s.ended, 3000, 'the stream to end');
    expect(stream.messages.at(-1)).toMatchObject({ event: 'error' });
    expect((await http(app.url, 'GET', '/api/auth/session', { headers: { Cookie: cookie } })).status).toBe(401);
    const again = await signInWithSso(new CookieJar(), app.url, 'rita');
    expect(again.status).toBe(403);
  });

  it('answers 502 when the provider goes away between sign-in and callback', async () => {
    const jar = new CookieJar();
    const callback = await providerRoundTrip(jar, app.url, 'ada');
    await provider!.stop();
    provider = undefined;
    const res = await browse(jar, callback);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toBe('sso_provider_error');
  });
});

describe('single sign-on switched off', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('says so, and its routes answer 404', async () => {
    expect((await http(app.url, 'GET', '/api/auth/config')).body).toEqual({ sso_enabled: false, login_url: null });
    for (const path of ['/api/auth/oidc/login', '/api/auth/oidc/callback?state=x&code=y']) {
      const res = await http(app.url, 'GET', path);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('sso_not_configured');
    }
  });
});
