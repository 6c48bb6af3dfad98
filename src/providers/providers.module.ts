import { Module, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config';
import { HttpClientFactory } from '../http';
import { ProviderConfig } from './provider-config.entity';
import { ProviderConfigRepository } from './provider-config.repository';
import { ProviderCircuitEvents } from './provider-circuit-events';
import { ProviderConfigService } from './provider-config.service';
import { ProviderCredentialsService } from './provider-credentials.service';
import { ProviderRegistry } from './provider-registry';
import { RateBudgetRepository } from './rate-budget.repository';
import { SharedRateBudget } from './shared-rate-budget';
import { ReplicateClient } from './replicate/replicate.client';
import { ReplicateProvider } from './replicate/replicate.provider';
import { ReplicateWebhookReader } from './replicate/replicate-webhook';
import { SimulatorProvider } from './simulator/simulator.provider';

/** The provider registry and the built-in providers; enterprise modules register more at init. */
@Module({
  imports: [TypeOrmModule.forFeature([ProviderConfig])],
  providers: [
    ProviderCircuitEvents,
    ProviderConfigRepository,
    ProviderRegistry,
    ProviderConfigService,
    ProviderCredentialsService,
    RateBudgetRepository,
    ReplicateWebhookReader,
    {
      provide: ReplicateProvider,
      inject: [AppConfig, HttpClientFactory, ProviderConfigService, ProviderCredentialsService, RateBudgetRepository],
      useFactory: (
        config: AppConfig,
        http: HttpClientFactory,
        configs: ProviderConfigService,
        credentials: ProviderCredentialsService,
        budgets: RateBudgetRepository,
      ) => {
        const window = config.env.SIMPLETUNER_REPLICATE_RATE_WINDOW_SECONDS;
        const budget = new SharedRateBudget(budgets, 'replicate', {
          create: { limit: config.env.SIMPLETUNER_REPLICATE_CREATES_PER_MINUTE, windowSeconds: window },
          call: { limit: config.env.SIMPLETUNER_REPLICATE_CALLS_PER_MINUTE, windowSeconds: window },
        });
        // The token is read before each call: one set through the API wins over REPLICATE_API_TOKEN at once.
        const holder: { provider?: ReplicateProvider } = {};
        const client = new ReplicateClient(http, {
          baseUrl: config.env.REPLICATE_API_BASE,
          token: () => holder.provider!.token(),
          budget,
        });
        holder.provider = new ReplicateProvider(client, configs, credentials, config.env.REPLICATE_API_TOKEN);
        return holder.provider;
      },
    },
    {
      provide: SimulatorProvider,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new SimulatorProvider(config.env.SIMULATOR_STEP_SECONDS),
    },
  ],
  exports: [
    ProviderRegistry,
    ProviderConfigService,
    ProviderCredentialsService,
    ReplicateProvider,
    ReplicateWebhookReader,
    SimulatorProvider,
  ],
})
export class ProvidersModule implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly replicate: ReplicateProvider,
    private readonly simulator: SimulatorProvider,
  ) {}

  onModuleInit(): void {
    this.registry.register(this.replicate);
    this.registry.register(this.simulator);
  }

  /** A token stored through the API configures Replicate without REPLICATE_API_TOKEN (the schema is migrated now). */
  async onApplicationBootstrap(): Promise<void> {
    await this.replicate.refreshCredentials();
  }
}
