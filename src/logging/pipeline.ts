import { inspect } from 'node:util';
import pino from 'pino';
import { LogFields, peekLogState } from '../context';
import { captureCallSite, CallSite } from './call-site';
import { formatJsonLine, formatTextLine, FormatOptions, LineRecord } from './line-format';
import { LEVEL_NUMBERS, parseLevel, PINO_METHODS } from './levels';
import { flushLogsSync, setLogFile, setStdoutEnabled, writeLine } from './sinks';

export interface StructuredLoggingOptions {
  /** DEBUG | INFO | WARNING | ERROR | CRITICAL (case-insensitive). Default INFO. */
  level?: string;
  /** true (default): JSON lines; false: the text format. */
  jsonOutput?: boolean;
  /** Every line also goes to this file (folder created). */
  logFile?: string | null;
  /** Stack traces on exceptions below ERROR too. */
  includeStackInfo?: boolean;
  /** Benchmarks only: leave stdout out. */
  stdout?: boolean;
  /** Benchmarks only: leave `source` out of the JSON line. */
  includeSource?: boolean;
}

const state = {
  minLevel: LEVEL_NUMBERS.INFO,
  json: true,
  format: { includeStackInfo: false, includeSource: true } as FormatOptions,
};

/** What our loggers hand to pino: pino serialises nothing of it (see formatters below); we format it. */
export class LogCall {
  constructor(
    readonly level: number,
    readonly logger: string,
    readonly message: string,
    readonly fields: LogFields | undefined,
    readonly site: CallSite | undefined,
    /**
     * For a line logged after its context is gone (the request line, written when the response finishes): its
     * correlation id, and no LogContext fields but its own.
     */
    readonly detached?: { correlationId: string | null },
  ) {}
}

const NEST_PREFIX = 'simpletuner.cloud.nest';
const PINO_METADATA: unique symbol = Symbol.for('pino.metadata') as never;

/** Turns pino's metadata of a line not made by getLogger() (Nest through nestjs-pino) into a record. */
function foreignRecord(level: number, obj: Record<string, unknown> | undefined, msg: unknown): LineRecord {
  const { context, err, ...rest } = obj ?? {};
  let message = typeof msg === 'string' ? msg : msg === undefined ? '' : inspect(msg, { breakLength: Infinity });
  if (message === '' && err instanceof Error) message = err.message;
  const ctx = peekLogState();
  return {
    time: Date.now(),
    level,
    logger: typeof context === 'string' && context !== '' ? `${NEST_PREFIX}.${context}` : NEST_PREFIX,
    message,
    correlationId: ctx.correlationId,
    source: state.format.includeSource ? captureCallSite() : undefined,
    context: ctx.fields,
    fields: Object.keys(rest).length > 0 ? rest : undefined,
    error: err,
  };
}

/**
 * pino metadata destination (pino's serializer cannot put `timestamp` first or write `": "`): pino sets
 * lastLevel/lastObj/lastMsg before each write(), and we format the line once from them. pino's own string is
 * ignored and never parsed.
 */
const NOTHING: LogFields = Object.freeze({});

class LineDestination {
  readonly [PINO_METADATA] = true;
  lastLevel = 0;
  lastObj: unknown;
  lastMsg: unknown;
  lastTime: unknown;
  lastLogger: unknown;

  write(_ignored: string): void {
    const obj = this.lastObj;
    let record: LineRecord;
    if (obj instanceof LogCall) {
      const fields = obj.fields;
      const ctx = obj.detached ? { correlationId: obj.detached.correlationId, fields: NOTHING } : peekLogState();
      record = {
        time: Date.now(),
        level: obj.level,
        logger: obj.logger,
        message: obj.message,
        correlationId: ctx.correlationId,
        source: state.format.includeSource ? (obj.site ?? captureCallSite()) : undefined,
        context: ctx.fields,
        fields,
        error: fields?.error,
      };
    } else {
      record = foreignRecord(this.lastLevel, obj as Record<string, unknown> | undefined, this.lastMsg);
    }
    writeLine(state.json ? formatJsonLine(record, state.format) : formatTextLine(record, state.format));
  }
}

const destination = new LineDestination();

/**
 * The one pino instance of the process (nestjs-pino keeps the first logger it is given for good, so it is never
 * replaced; reconfiguration changes the state it formats with). `base: null, timestamp: false` and empty
 * formatters keep pino's own serialisation to a few bytes.
 */
export const rootPino = pino(
  {
    base: null,
    timestamp: false,
    level: 'info',
    formatters: { level: () => NOTHING, log: () => NOTHING },
  },
  destination as unknown as pino.DestinationStream,
);

let exitHookInstalled = false;

export function configureStructuredLogging(opts: StructuredLoggingOptions = {}): void {
  state.minLevel = parseLevel(opts.level);
  state.json = opts.jsonOutput ?? true;
  state.format = { includeStackInfo: opts.includeStackInfo ?? false, includeSource: opts.includeSource ?? true };
  rootPino.level = PINO_METHODS[state.minLevel];
  setStdoutEnabled(opts.stdout ?? true);
  setLogFile(opts.logFile ?? null);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', flushLogsSync);
  }
}

export interface StructuredLogger {
  readonly name: string;
  debug(message: string, extra?: LogFields, site?: CallSite): void;
  info(message: string, extra?: LogFields, site?: CallSite): void;
  warning(message: string, extra?: LogFields, site?: CallSite): void;
  /** `extra.error` (an Error or anything thrown) becomes the line's `exception`. */
  error(message: string, extra?: LogFields, site?: CallSite): void;
  critical(message: string, extra?: LogFields, site?: CallSite): void;
}

function method(level: number) {
  const pinoMethod = PINO_METHODS[level];
  // `site` is filled in at compile time by tools/log-callsite-transformer.js; callers never pass it.
  return function (this: { name: string }, message: string, extra?: LogFields, site?: CallSite): void {
    if (level < state.minLevel) return;
    rootPino[pinoMethod](new LogCall(level, this.name, message, extra, site));
  };
}

const proto = {
  debug: method(LEVEL_NUMBERS.DEBUG),
  info: method(LEVEL_NUMBERS.INFO),
  warning: method(LEVEL_NUMBERS.WARNING),
  error: method(LEVEL_NUMBERS.ERROR),
  critical: method(LEVEL_NUMBERS.CRITICAL),
};

const loggers = new Map<string, StructuredLogger>();

/** A logger of the `simpletuner.cloud.*` hierarchy; cheap to call at module level. */
export function getLogger(name: string): StructuredLogger {
  let logger = loggers.get(name);
  if (!logger) {
    logger = Object.assign(Object.create(proto) as StructuredLogger, { name });
    loggers.set(name, logger);
  }
  return logger;
}
