/** The five level names a log line shows, lowest first: the configuration validates them, logging writes them. */
export const LOG_LEVEL_NAMES = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];
