export { ProviderCallError, SECRET_NAMES } from './provider.interface';
/** @public: what a provider of an enterprise module implements (README "Extending"). */
export type {
  ProviderStatus,
  ProviderJob,
  ProviderSubmission,
  ProviderJobState,
  TrainingProvider,
  JobDataset,
  JobSecrets,
  SecretName,
} from './provider.interface';
export { ProviderRegistry } from './provider-registry';
export { ProviderConfig } from './provider-config.entity';
export { ProviderConfigService } from './provider-config.service';
export { ProviderCredentialsService } from './provider-credentials.service';
export {
  DEFAULT_HARDWARE_PROFILE,
  DEFAULT_DURATION_SECONDS,
  isValidProfile,
  allProfiles,
  hardwareRate,
  hardwareOverrideProblems,
  roundUsd,
} from './hardware';
export { ProvidersModule } from './providers.module';
export { ReplicateWebhookReader } from './replicate/replicate-webhook';
export { webhookPreflight } from './replicate/webhook-preflight';
export { webhookSourceCheck } from './replicate/webhook-allowlist';
export type { ReplicateWebhook } from './replicate/replicate-webhook';
/** The Replicate provider's client reaches Replicate's files API (dataset uploads). */
export { ReplicateProvider } from './replicate/replicate.provider';
