import { Injectable, OnModuleInit } from '@nestjs/common';
import { EventsService } from '../events';
import { CircuitBreakerRegistry, type CircuitBreaker } from '../http';
import { getLogger } from '../logging';

const log = getLogger('simpletuner.cloud.providers');

/**
 * Publishes `provider_circuit_open` when this instance's circuit to a provider opens after a run of failures (one
 * event per outage per instance; a failed trial call re-opening it is the same outage), so that operators hear
 * of it through the event stream and the `provider.circuit_open` notification.
 */
@Injectable()
export class ProviderCircuitEvents implements OnModuleInit {
  constructor(
    private readonly breakers: CircuitBreakerRegistry,
    private readonly events: EventsService,
  ) {}

  onModuleInit(): void {
    this.breakers.onOpened((breaker) => void this.publish(breaker));
  }

  async publish(breaker: CircuitBreaker): Promise<void> {
    const data = {
      provider: breaker.name,
      failures: breaker.failureThreshold,
      open_seconds: Math.round(breaker.openMs / 1000),
    };
    log.warning(`The circuit to ${breaker.name} opened after ${data.failures} failed calls`, data);
    try {
      await this.events.publish({ type: 'provider_circuit_open', data });
    } catch (error) {
      log.warning('Could not publish provider_circuit_open', { provider: breaker.name, error });
    }
  }
}
