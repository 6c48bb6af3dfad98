/**
 * A fetch on the app's outbound connection pool (SIMPLETUNER_HTTP_PROXY, SIMPLETUNER_HTTP_CA_FILE; closed with the
 * app), for a library that takes its own fetch function. Modules inject it by this token, so they depend on the
 * port, not on the http module.
 */
export type OutboundFetch = (url: string, init?: RequestInit) => Promise<Response>;
export const OUTBOUND_FETCH = Symbol('OUTBOUND_FETCH');
