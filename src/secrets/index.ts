export { SecretsModule } from './secrets.module';
export { SecretBox } from './secret-box';
export type { SealedValue } from './secret-box';
