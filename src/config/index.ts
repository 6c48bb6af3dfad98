export * from './app-config';
export * from './config.module';
export { loadEnterpriseFile, interpolateEnv, enterpriseConfigCandidates } from './enterprise-config';
export { environmentWithDotEnv } from './dotenv';
