import * as fs from 'node:fs';
import * as path from 'node:path';
import { Agent, Dispatcher, ProxyAgent } from 'undici';

/** Process-wide settings of outbound calls, installed once from AppConfig. */
export interface HttpDefaults {
  timeoutMs: number;
  userAgent: string;
  dispatcher: Dispatcher | undefined;
}

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

let defaults: HttpDefaults = {
  timeoutMs: 30_000,
  userAgent: `SimpleTuner-Cloud/${PACKAGE_VERSION}`,
  dispatcher: undefined,
};

export function getHttpDefaults(): HttpDefaults {
  return defaults;
}

/**
 * Installs timeout, proxy and CA settings. `proxy` uses undici's ProxyAgent (CONNECT for https targets);
 * `caFile` adds a PEM bundle of trusted roots, for the proxy and the targets.
 */
export function configureHttpDefaults(opts: { timeoutSeconds?: number; proxy?: string; caFile?: string }): void {
  const ca = opts.caFile ? fs.readFileSync(opts.caFile, 'utf8') : undefined;
  let dispatcher: Dispatcher | undefined;
  if (opts.proxy) {
    dispatcher = new ProxyAgent({ uri: opts.proxy, ...(ca ? { requestTls: { ca }, proxyTls: { ca } } : {}) });
  } else if (ca) {
    dispatcher = new Agent({ connect: { ca } });
  }
  const previous = defaults.dispatcher;
  defaults = {
    timeoutMs: Math.round((opts.timeoutSeconds ?? 30) * 1000),
    userAgent: `SimpleTuner-Cloud/${PACKAGE_VERSION}`,
    dispatcher,
  };
  if (previous && previous !== dispatcher) void previous.close().catch(() => undefined);
}
