export * from './provider.interface';
export * from './provider-registry';
export * from './provider-config.entity';
export * from './provider-config.service';
export * from './hardware';
export * from './providers.module';
export { ReplicateProvider, mapReplicateStatus } from './replicate/replicate.provider';
export { SimulatorProvider } from './simulator/simulator.provider';
