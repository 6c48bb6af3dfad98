import { Global, Module } from '@nestjs/common';
import { CircuitBreakerRegistry } from './circuit-breaker';
import { CircuitStateMetrics } from './circuit-state.metrics';
import { HttpClientFactory } from './http-client.factory';

/** Outbound HTTP for one app: its client factory (settings from its AppConfig) and its circuit breakers. */
@Global()
@Module({
  providers: [CircuitBreakerRegistry, HttpClientFactory, CircuitStateMetrics],
  exports: [HttpClientFactory, CircuitBreakerRegistry],
})
export class HttpModule {}
