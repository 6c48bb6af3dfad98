export * from './http-client';
export * from './http-errors';
export { HttpClientFactory, HttpModule } from './http.module';
export { circuitStates, resetCircuitBreakers } from './circuit-breaker';
export type { CircuitState, CircuitBreakerOptions } from './circuit-breaker';
export { configureHttpDefaults, getHttpDefaults, PACKAGE_VERSION } from './http-defaults';
export { parseRetryAfter, backoffDelay, sleep } from './backoff';
