import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { captureOutput } from './test-logs';

/** The claims of a test account, by the login typed at the provider. */
type Accounts = Record<string, Record<string, unknown>>;

export interface OidcProvider {
  stop(): Promise<void>;
}

/** A port free now on 127.0.0.1, for a server whose address must be known before it starts. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const CLIENT = { client_id: 'simpletuner', client_secret: 'simpletuner-test-secret' };
const callbackOf = (appUrl: string) => `${appUrl}/api/auth/oidc/callback`;

/** The app's settings for a provider on this port (it may start later: the app discovers it at the first sign-in). */
export function oidcEnv(providerPort: number, appUrl: string): Record<string, string> {
  return {
    SIMPLETUNER_OIDC_ISSUER: `http://127.0.0.1:${providerPort}`,
    SIMPLETUNER_OIDC_CLIENT_ID: CLIENT.client_id,
    SIMPLETUNER_OIDC_CLIENT_SECRET: CLIENT.client_secret,
    SIMPLETUNER_OIDC_REDIRECT_URL: callbackOf(appUrl),
    SIMPLETUNER_OIDC_LEVEL_CLAIM: 'groups',
    SIMPLETUNER_OIDC_LEVEL_MAP: 'st-admins=admin,st-leads=lead,st-researchers=researcher',
    SIMPLETUNER_OIDC_ORG_CLAIM: 'org',
  };
}

/**
 * A real OpenID provider (oidc-provider) on 127.0.0.1:`port` in a child process, with one confidential client
 * whose redirect URL is `appUrl`'s callback, and these accounts (claims by login).
 */
export async function startOidcProvider(port: number, appUrl: string, accounts: Accounts): Promise<OidcProvider> {
  const config = { client: { ...CLIENT, redirect_uris: [callbackOf(appUrl)] }, accounts, port };
  const child = spawn(process.execPath, [path.join(__dirname, 'oidc-provider-server.mjs'), JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  captureOutput(child.stderr, `[oidc-provider ${child.pid}]`);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/listening \d+/.test(out)) resolve();
    });
    void exited.then(() => reject(new Error(`oidc-provider exited before listening: ${out}`)));
  });
  return {
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}

/** Cookies by host and name, as a browser keeps them (paths ignored: the names used here do not repeat). */
export class CookieJar {
  private readonly byHost = new Map<string, Map<string, string>>();

  store(url: URL, res: Response): void {
    const jar = this.byHost.get(url.host) ?? new Map<string, string>();
    this.byHost.set(url.host, jar);
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const gone = attrs.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a));
      if (gone || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  header(url: URL): string {
    return [...(this.byHost.get(url.host) ?? [])].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(url: string, name: string): string | undefined {
    return this.byHost.get(new URL(url).host)?.get(name);
  }

  set(url: string, name: string, value: string): void {
    const host = new URL(url).host;
    const jar = this.byHost.get(host) ?? new Map<string, string>();
    jar.set(name, value);
    this.byHost.set(host, jar);
  }
}

/** One request as a browser makes it: cookies from the jar and into it, no redirect followed. */
export async function browse(jar: CookieJar, url: URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookies = jar.header(url);
  if (cookies) headers.set('Cookie', cookies);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(url, res);
  return res;
}

/** The form of a development interaction page: where it posts and which prompt it answers. */
function formOf(html: string): { action: string; prompt: string } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !prompt) throw new Error(`No interaction form in: ${html.slice(0, 300)}`);
  return { action: action.replace(/&amp;/g, '&'), prompt };
}

/**
 * Walks a sign-in as a browser would: the app's login route, the provider's login and consent forms (as `login`),
 * back to the app's callback. Returns the callback URL the provider redirected to (not yet visited).
 */
export async function providerRoundTrip(jar: CookieJar, appUrl: string, login: string): Promise<URL> {
  let url = new URL('/api/auth/oidc/login', appUrl);
  let res = await browse(jar, url);
  for (let step = 0; step < 20; step++) {
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url);
      if (url.pathname === '/api/auth/oidc/callback') return url;
      res = await browse(jar, url);
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`${url.href} answered ${res.status}: ${html.slice(0, 300)}`);
    const form = formOf(html);
    const fields: Record<string, string> =
      form.prompt === 'login' ? { prompt: 'login', login, password: 'any' } : { prompt: form.prompt };
    url = new URL(form.action, url);
    res = await browse(jar, url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
  throw new Error('The sign-in did not come back to the app');
}

/** A whole sign-in: the round trip and the app's callback; returns the callback's answer. */
export async function signInWithSso(jar: CookieJar, appUrl: string, login: string): Promise<Response> {
  return browse(jar, await providerRoundTrip(jar, appUrl, login));
}
