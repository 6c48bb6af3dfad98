import * as dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import * as fs from 'node:fs';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

/** Outbound notification calls give up after this long (connect and answer). */
export const TARGET_TIMEOUT_MS = 10_000;

/** Loopback, private, carrier-grade NAT, link-local (cloud metadata lives there), multicast and reserved ranges. */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv6');

/** Whether an address is one notifications must not reach (an IPv4-mapped IPv6 address is judged as IPv4). */
export function isBlockedAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return BLOCKED.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

class BlockedTargetError extends Error {
  readonly code = 'ERR_BLOCKED_TARGET';
}

/** Why a URL may not be a notification target (null: it may), resolving its host name as a connect would. */
export async function targetRefusal(raw: string, allowPrivate: boolean): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return 'must be an https:// URL';
  if (url.username || url.password) return 'must not carry credentials';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await dns.promises.lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return `host ${host} does not resolve`;
  }
  const blocked = addresses.find(isBlockedAddress);
  return blocked ? `resolves to ${blocked}, a loopback, private, link-local or metadata address` : null;
}

/**
 * The lookup every connect of a notification goes through: the name is resolved again at connect time and refused
 * when any address is a blocked one, so a name that changes its answer after the channel was checked (DNS
 * rebinding) still reaches nothing private.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const blocked = addresses.find((a) => isBlockedAddress(a.address));
    if (blocked) {
      const refusal = new BlockedTargetError(`${hostname} resolves to a blocked address (${blocked.address})`);
      return callback(refusal, '', 0);
    }
    if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};

/** The app's outbound settings notification calls follow: SIMPLETUNER_HTTP_PROXY and SIMPLETUNER_HTTP_CA_FILE. */
export interface NotificationEgress {
  proxy?: string;
  caFile?: string;
}

/**
 * The connection pool of notification calls, their own (no circuit breaker is shared with the provider's calls), a
 * 10 s connect timeout, through the app's proxy and CA bundle when set. Directly, host names are checked at each
 * connect (unless private targets are allowed); through a proxy the proxy resolves and connects, so HttpTransport
 * checks the name just before each call instead. An address literal skips the lookup, so callers check those with
 * {@link isBlockedAddress} before sending.
 */
export function notificationDispatcher(allowPrivate: boolean, egress: NotificationEgress = {}): Dispatcher {
  const ca = egress.caFile ? fs.readFileSync(egress.caFile, 'utf8') : undefined;
  const timeouts = { headersTimeout: TARGET_TIMEOUT_MS, bodyTimeout: TARGET_TIMEOUT_MS };
  if (egress.proxy) {
    return new ProxyAgent({
      uri: egress.proxy,
      ...timeouts,
      proxyTls: { timeout: TARGET_TIMEOUT_MS, ...(ca ? { ca } : {}) },
      requestTls: { timeout: TARGET_TIMEOUT_MS, ...(ca ? { ca } : {}) },
    });
  }
  return new Agent({
    connect: { timeout: TARGET_TIMEOUT_MS, ...(ca ? { ca } : {}), ...(allowPrivate ? {} : { lookup: guardedLookup }) },
    ...timeouts,
  });
}
