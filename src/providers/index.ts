export * from './provider.interface';
export * from './provider-registry';
export * from './provider-config.entity';
export * from './providers.module';
