export {
  ConfigValidationError,
  AppConfig,
  loadAppConfig,
  loadAppConfigOrExit,
  setCurrentConfig,
  getCurrentConfig,
} from './app-config';
export { ConfigModule } from './config.module';
export { environmentWithDotEnv } from './dotenv';
