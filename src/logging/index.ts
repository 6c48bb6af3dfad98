// The Logging module's public API, used by every module and by enterprise modules.
import { loadAppConfig } from '../config';
import { configureStructuredLogging } from './pipeline';
export { LogContext, getCorrelationId, setCorrelationId, clearCorrelationId, runWithCorrelationId } from '../context';
/** @public for enterprise modules (README "Extending"). */
export type { LogFields } from '../context';
export { configureStructuredLogging, getLogger } from './pipeline';
/** @public for enterprise modules (README "Extending"). */
export type { StructuredLogger, StructuredLoggingOptions } from './pipeline';
export { flushLogs } from './sinks';
export { requestLogging } from './request-log';
/**
 * For scripts: configures logging from SIMPLETUNER_LOG_* of `source` (default the process environment), validated
 * by the configuration's own parser, so a bad value fails as it would at boot. An app configures its logging from
 * the AppConfig it was given.
 */
export function initFromEnv(source: NodeJS.ProcessEnv = process.env): void {
  const env = loadAppConfig(source).env;
  configureStructuredLogging({
    level: env.SIMPLETUNER_LOG_LEVEL,
    jsonOutput: env.SIMPLETUNER_LOG_FORMAT === 'json',
    logFile: env.SIMPLETUNER_LOG_FILE,
    includeStackInfo: env.SIMPLETUNER_LOG_INCLUDE_STACK,
  });
}
// LoggingModule is imported from './logging/logging.module' (its scheduler depends on scheduling, which logs).
export { LogRotationService } from './log-rotation.service';
