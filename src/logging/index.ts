// TEMPORARY minimal logger so the foundation runs; the Logging module (issue 3) replaces this file's internals
// while keeping the exported API below.
import { LogContext, LogFields, peekCorrelationId } from '../context';

export { LogContext, getCorrelationId, setCorrelationId, clearCorrelationId } from '../context';
export type { LogFields } from '../context';

export interface StructuredLogger {
  readonly name: string;
  debug(message: string, extra?: LogFields): void;
  info(message: string, extra?: LogFields): void;
  warning(message: string, extra?: LogFields): void;
  /** `extra.error` (an Error or anything thrown) becomes the line's `exception`. */
  error(message: string, extra?: LogFields): void;
  critical(message: string, extra?: LogFields): void;
}

const ORDER = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
let minLevel = 1;

export function configureStructuredLogging(opts: { level?: string; jsonOutput?: boolean; logFile?: string; includeStackInfo?: boolean }): void {
  minLevel = Math.max(0, ORDER.indexOf((opts.level ?? 'INFO').toUpperCase()));
}

export function getLogger(name: string): StructuredLogger {
  const write = (level: number) => (message: string, extra?: LogFields) => {
    if (level < minLevel) return;
    const { error, ...fields } = extra ?? {};
    const line: Record<string, unknown> = {
      timestamp: new Date().toISOString(),
      level: ORDER[level],
      logger: name,
      message,
      correlation_id: peekCorrelationId(),
      extra: { ...LogContext.current(), ...fields },
    };
    if (error) line.exception = { type: (error as Error).name, message: (error as Error).message, stack: (error as Error).stack };
    process.stdout.write(JSON.stringify(line) + '\n');
  };
  return { name, debug: write(0), info: write(1), warning: write(2), error: write(3), critical: write(4) };
}
