import { SetMetadata } from '@nestjs/common';

/** Route classes with a limit of their own, on top of the general one. */
export type RouteLimit = 'submit' | 'uploads';

export const ROUTE_LIMIT = 'rate-limit:route';

/**
 * A route's own limit, SIMPLETUNER_RATE_LIMIT_<CLASS>_PER_MINUTE per API key: `submit` is counted in the database,
 * so it holds across instances; `uploads`, like the general limit, per instance.
 */
export const RateLimit = (route: RouteLimit) => SetMetadata(ROUTE_LIMIT, route);

export const NO_RATE_LIMIT = 'rate-limit:none';

/** Not limited: health probes and metric scrapes (a 429 would read as the service being down), static files. */
export const NoRateLimit = () => SetMetadata(NO_RATE_LIMIT, true);
