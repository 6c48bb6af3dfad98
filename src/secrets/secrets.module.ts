import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config';
import { SecretBox } from './secret-box';
import { loadSecretBox } from './secret-keys';

/** Global: any module that keeps a secret at rest (a job's tokens, a provider credential) seals it here. */
@Global()
@Module({
  providers: [{ provide: SecretBox, inject: [AppConfig], useFactory: (config: AppConfig) => loadSecretBox(config) }],
  exports: [SecretBox],
})
export class SecretsModule {}
