import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors';
import type { TrainingProvider } from './provider.interface';

@Injectable()
export class ProviderRegistry {
  private readonly providers = new Map<string, TrainingProvider>();

  register(provider: TrainingProvider): void {
    this.providers.set(provider.name, provider);
  }

  has(name: string): boolean {
    return this.providers.has(name);
  }

  get(name: string): TrainingProvider {
    const provider = this.providers.get(name);
    if (!provider) throw new NotFoundError(`Provider ${name} not found`, 'not_found', { provider: name });
    return provider;
  }

  list(): TrainingProvider[] {
    return [...this.providers.values()];
  }
}
