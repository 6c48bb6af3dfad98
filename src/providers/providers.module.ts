import { Module } from '@nestjs/common';
import { ProviderRegistry } from './provider-registry';

/** The provider registry and the built-in providers; enterprise modules register more at init. */
@Module({
  providers: [ProviderRegistry],
  exports: [ProviderRegistry],
})
export class ProvidersModule {}
