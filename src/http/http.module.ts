import { Global, Module } from '@nestjs/common';
import { CircuitBreakerRegistry } from './circuit-breaker';
import { CircuitStateMetrics } from './circuit-state.metrics';
import { HttpClientFactory } from './http-client.factory';
import { OUTBOUND_FETCH } from '../common/outbound-fetch';

/** Outbound HTTP for one app: its client factory (settings from its AppConfig) and its circuit breakers. */
@Global()
@Module({
  providers: [
    CircuitBreakerRegistry,
    HttpClientFactory,
    CircuitStateMetrics,
    { provide: OUTBOUND_FETCH, useFactory: (f: HttpClientFactory) => f.fetch, inject: [HttpClientFactory] },
  ],
  exports: [HttpClientFactory, CircuitBreakerRegistry, OUTBOUND_FETCH],
})
export class HttpModule {}
