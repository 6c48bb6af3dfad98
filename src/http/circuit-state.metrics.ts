import { Injectable } from '@nestjs/common';
import { MetricsService } from '../metrics';
import { CircuitBreakerRegistry } from './circuit-breaker';

const STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** `simpletuner_provider_circuit_state`: this app's breakers, read at scrape time. */
@Injectable()
export class CircuitStateMetrics {
  constructor(metrics: MetricsService, breakers: CircuitBreakerRegistry) {
    // Registered at construction, before any module's init hook: the series reads this app's registry even if
    // another provider asks for the same name later (it then gets this one back).
    metrics.gauge({
      name: 'simpletuner_provider_circuit_state',
      help: 'Circuit breaker per outbound target: 0 closed, 1 half-open, 2 open',
      labelNames: ['target'],
      collect() {
        for (const [target, state] of Object.entries(breakers.states())) this.set({ target }, STATE_VALUE[state]);
      },
    });
  }
}
