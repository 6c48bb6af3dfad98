import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../src/config';
import { ProviderRegistry } from '../../src/providers';
import { OnpremProvider } from './onprem.provider';
import { onpremSettings } from './onprem-settings';

/** Puts the in-house cluster beside Replicate and the simulator: `"provider": "onprem"` on submit picks it. */
@Injectable()
export class OnpremRegistration implements OnModuleInit {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register(new OnpremProvider(onpremSettings(this.config).run_seconds * 1000));
  }
}
