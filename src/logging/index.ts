// The Logging module's public API, used by every module and by enterprise modules.
import { getCurrentConfig } from '../config';
import { configureStructuredLogging } from './pipeline';
export { LogContext, getCorrelationId, setCorrelationId, clearCorrelationId, runWithCorrelationId } from '../context';
/** @public for enterprise modules (README "Extending"). */
export type { LogFields } from '../context';
export { configureStructuredLogging, getLogger } from './pipeline';
/** @public for enterprise modules (README "Extending"). */
export type { StructuredLogger, StructuredLoggingOptions } from './pipeline';
export { flushLogs } from './sinks';
export { requestLogging } from './request-log';
/** Configures logging from SIMPLETUNER_LOG_* through the validated configuration (nothing else reads env). */
export function initFromEnv(): void {
  const env = getCurrentConfig().env;
  configureStructuredLogging({
    level: env.SIMPLETUNER_LOG_LEVEL,
    jsonOutput: env.SIMPLETUNER_LOG_FORMAT === 'json',
    logFile: env.SIMPLETUNER_LOG_FILE,
    includeStackInfo: env.SIMPLETUNER_LOG_INCLUDE_STACK,
  });
}
// LoggingModule is imported from './logging/logging.module' (its scheduler depends on scheduling, which logs).
export { LogRotationService } from './log-rotation.service';
