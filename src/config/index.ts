export { ConfigValidationError, AppConfig, loadAppConfig, loadAppConfigOrExit } from './app-config';
export { ConfigModule } from './config.module';
export { environmentWithDotEnv } from './dotenv';
