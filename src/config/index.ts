export * from './app-config';
export * from './config.module';
export { environmentWithDotEnv } from './dotenv';
