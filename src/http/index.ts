export { HttpClient, getHttpClient } from './http-client';
export type { HttpClientOptions } from './http-client';
export {
  HttpStatusError,
  HttpTimeoutError,
  HttpNetworkError,
  HttpOutcomeUnknownError,
  CircuitOpenError,
} from './http-errors';
export { HttpModule } from './http.module';
export { circuitStates, resetCircuitBreakers } from './circuit-breaker';
export { configureHttpDefaults, PACKAGE_VERSION } from './http-defaults';
export { parseRetryAfter, backoffDelay, sleep } from './backoff';
