export { HttpClient } from './http-client';
export type { HttpClientOptions } from './http-client';
export { HttpClientFactory } from './http-client.factory';
export {
  HttpStatusError,
  HttpTimeoutError,
  HttpNetworkError,
  HttpOutcomeUnknownError,
  CircuitOpenError,
} from './http-errors';
export { HttpModule } from './http.module';
export { CircuitBreaker, CircuitBreakerRegistry } from './circuit-breaker';
export { PACKAGE_VERSION } from './http-settings';
export { parseRetryAfter, backoffDelay, sleep } from './backoff';
