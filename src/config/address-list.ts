import express from 'express';

/**
 * Addresses and CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`, `::1`, also `loopback`, `linklocal`, `uniquelocal`)
 * compiled by express's own proxy-addr, the code that reads SIMPLETUNER_TRUSTED_PROXIES: one syntax and one matcher
 * (IPv4-mapped IPv6 included) for every list of addresses in the service. Throws TypeError on an invalid entry.
 */
export function compileAddressList(list: readonly string[]): (address: string) => boolean {
  const app = express();
  app.set('trust proxy', [...list]);
  const trusts = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
  return (address) => trusts(address, 0);
}

/** The first entry that is not an address or a CIDR range, or null when all are. */
export function invalidAddress(list: readonly string[]): string | null {
  for (const entry of list) {
    try {
      compileAddressList([entry]);
    } catch {
      return entry;
    }
  }
  return null;
}
