import * as fs from 'node:fs';
import * as path from 'node:path';
import { Agent, Dispatcher, ProxyAgent } from 'undici';

function findPackageVersion(): string {
  // Walk up from this file: works from src/http (ts-node, jest) and dist/src/http (build).
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'simpletuner-cloud' && pkg.version) return pkg.version;
      } catch {
        // unreadable: keep looking
      }
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

export const PACKAGE_VERSION = findPackageVersion();

/** What SIMPLETUNER_HTTP_TIMEOUT, SIMPLETUNER_HTTP_PROXY and SIMPLETUNER_HTTP_CA_FILE say. */
export interface HttpSettingsInput {
  timeoutSeconds: number;
  proxy?: string;
  caFile?: string;
}

/** One app's settings of outbound calls; its clients share them, another app has its own. */
export interface HttpSettings {
  timeoutMs: number;
  userAgent: string;
  /** The app's own connection pool (through the proxy when one is set); closed with the app. */
  dispatcher: Dispatcher;
}

/**
 * `proxy` uses undici's ProxyAgent (CONNECT, for http and https targets); `caFile` adds a PEM bundle of trusted
 * roots, for the proxy and the targets. Without either, a plain Agent: still the app's own, so closing one app never
 * drops another's connections.
 */
export function buildHttpSettings(input: HttpSettingsInput): HttpSettings {
  const ca = input.caFile ? fs.readFileSync(input.caFile, 'utf8') : undefined;
  let dispatcher: Dispatcher;
  if (input.proxy) {
    dispatcher = new ProxyAgent({ uri: input.proxy, ...(ca ? { requestTls: { ca }, proxyTls: { ca } } : {}) });
  } else {
    dispatcher = new Agent(ca ? { connect: { ca } } : {});
  }
  return {
    timeoutMs: Math.round(input.timeoutSeconds * 1000),
    userAgent: `SimpleTuner-Cloud/${PACKAGE_VERSION}`,
    dispatcher,
  };
}
