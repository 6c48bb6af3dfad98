import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { NotFoundError } from '../common/errors';
import { MetricsService } from '../metrics';
import { ProviderCallError, TrainingProvider } from './provider.interface';

/** The provider operations counted on /metrics. */
const COUNTED = ['submit', 'get', 'cancel', 'findByJobId', 'syncMany'] as const;
type Operation = (typeof COUNTED)[number];

/** How a call ended, as a label: the classes an operator alerts on differently. */
function callOutcome(err: unknown): string {
  if (!(err instanceof ProviderCallError)) return 'error';
  if (err.circuitOpen) return 'circuit_open';
  if (err.status === 429) return 'rate_limited';
  if (err.outcomeUnknown) return 'unknown_outcome';
  return err.retryable ? 'retryable_error' : 'rejected';
}

/**
 * The same provider, with every operation counted. The wrapper inherits from the provider object, so its name,
 * isConfigured() and anything an enterprise provider adds stay as they are.
 */
function countedProvider(
  provider: TrainingProvider,
  calls: Counter<'provider' | 'operation' | 'outcome'>,
): TrainingProvider {
  const wrapper = Object.create(provider) as TrainingProvider;
  for (const operation of COUNTED) {
    // Called below with `provider` as `this`.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const original = provider[operation] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (typeof original !== 'function') continue;
    (wrapper as unknown as Record<Operation, unknown>)[operation] = async (...args: unknown[]) => {
      try {
        const result = await original.apply(provider, args);
        calls.inc({ provider: provider.name, operation, outcome: 'ok' });
        return result;
      } catch (err) {
        calls.inc({ provider: provider.name, operation, outcome: callOutcome(err) });
        throw err;
      }
    };
  }
  return wrapper;
}

@Injectable()
export class ProviderRegistry {
  private readonly providers = new Map<string, TrainingProvider>();
  private readonly calls: Counter<'provider' | 'operation' | 'outcome'>;

  constructor(metrics: MetricsService) {
    this.calls = metrics.counter({
      name: 'simpletuner_provider_calls_total',
      help: 'Calls to training providers, by provider, operation and outcome',
      labelNames: ['provider', 'operation', 'outcome'],
    });
  }

  register(provider: TrainingProvider): void {
    this.providers.set(provider.name, countedProvider(provider, this.calls));
  }

  has(name: string): boolean {
    return this.providers.has(name);
  }

  get(name: string): TrainingProvider {
    const provider = this.providers.get(name);
    if (!provider) throw new NotFoundError(`Provider ${name} not found`, 'not_found', { provider: name });
    return provider;
  }

  /** Where a job or upload goes without `provider`: Replicate when a token is in force (stored or env), else the simulator. */
  defaultName(): string {
    const replicate = this.providers.get('replicate');
    return replicate?.isConfigured?.() ? 'replicate' : 'simulator';
  }

  list(): TrainingProvider[] {
    return [...this.providers.values()];
  }
}
