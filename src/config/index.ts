export { ConfigValidationError, AppConfig, loadAppConfig, loadAppConfigOrExit } from './app-config';
export { ConfigModule } from './config.module';
export { environmentWithDotEnv } from './dotenv';
export { LOG_LEVEL_NAMES } from './log-levels';
export type { LogLevelName } from './log-levels';
export type { SsoSettings } from './sso-config';
export { compileAddressList, invalidAddress } from './address-list';
