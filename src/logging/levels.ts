/** The five level names a line shows and the pino numbers they ride on (CRITICAL = pino's fatal). */
import { LOG_LEVEL_NAMES, type LogLevelName } from '../config';

export type LevelName = LogLevelName;

export const LEVEL_NUMBERS: Record<LevelName, number> = { DEBUG: 20, INFO: 30, WARNING: 40, ERROR: 50, CRITICAL: 60 };

/** pino method per level number. */
export const PINO_METHODS: Record<number, 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** Any pino number (Nest's verbose arrives as trace = 10) mapped to one of our names. */
export function levelName(num: number): LevelName {
  if (num >= 60) return 'CRITICAL';
  if (num >= 50) return 'ERROR';
  if (num >= 40) return 'WARNING';
  if (num >= 30) return 'INFO';
  return 'DEBUG';
}

export function parseLevel(value: string | undefined): number {
  const name = (value ?? 'INFO').trim().toUpperCase();
  if (name === 'WARN') return LEVEL_NUMBERS.WARNING;
  if (name === 'FATAL') return LEVEL_NUMBERS.CRITICAL;
  const n = LEVEL_NUMBERS[name as LevelName];
  if (n === undefined) throw new Error(`Unknown log level ${value}: use one of ${LOG_LEVEL_NAMES.join(', ')}`);
  return n;
}
