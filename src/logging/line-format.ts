import { inspect } from 'node:util';
import type { CallSite } from './call-site';
import { dumpMerged, dumpRecurring, dumps, dumpString, mergeFields } from './json-serializer';
import { levelName } from './levels';
import { isSecretKey, REDACTED, redactString } from '../common/secrets';

/** Everything one line shows, gathered at the call. */
export interface LineRecord {
  time: number;
  level: number;
  logger: string;
  message: string;
  correlationId: string | null;
  source: CallSite | null | undefined;
  /** LogContext fields. */
  context: Record<string, unknown>;
  /** Fields passed with the call (without `error`). */
  fields: Record<string, unknown> | undefined;
  error: unknown;
}

export interface FormatOptions {
  includeStackInfo: boolean;
  /** false only in the benchmark's "without source" figure. */
  includeSource: boolean;
}

interface ExceptionInfo {
  type: string;
  message: string;
  stack?: string;
}

function exceptionInfo(error: unknown, withStack: boolean): ExceptionInfo {
  if (error instanceof Error) {
    const info: ExceptionInfo = {
      type: error.name || error.constructor?.name || 'Error',
      message: redactString(error.message),
    };
    if (withStack && error.stack) info.stack = redactString(error.stack);
    return info;
  }
  return { type: typeof error, message: redactString(typeof error === 'string' ? error : safeString(error)) };
}

function safeString(v: unknown): string {
  try {
    if (typeof v === 'object') return JSON.stringify(v);
    if (typeof v === 'function') return `[Function ${v.name}]`;
    // Only primitives are left; the rule cannot narrow `unknown` that far.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    return String(v);
  } catch {
    // A cycle or a BigInt inside: inspect still shows what the value holds.
    return inspect(v, { depth: 3, breakLength: Infinity });
  }
}

// Many lines share a millisecond: format its timestamp once.
let isoTime = -1;
let isoText = '';
function isoTimestamp(time: number): string {
  if (time !== isoTime) {
    isoTime = time;
    isoText = new Date(time).toISOString();
  }
  return isoText;
}

// Logger names are few and correlation ids repeat over a request's lines: their JSON text is kept.
const loggerTexts = new Map<string, string>();
function loggerJson(name: string): string {
  let text = loggerTexts.get(name);
  if (text === undefined) {
    text = JSON.stringify(name);
    if (loggerTexts.size < 10_000) loggerTexts.set(name, text);
  }
  return text;
}

let lastCorrelationId: string | null = null;
let lastCorrelationText = 'null';
function correlationJson(id: string | null): string {
  if (id !== lastCorrelationId) {
    lastCorrelationId = id;
    lastCorrelationText = id === null ? 'null' : JSON.stringify(id);
  }
  return lastCorrelationText;
}

// Compile-time sites are frozen constants: serialise each once.
const sourceCache = new WeakMap<CallSite, string>();
function sourceJson(s: CallSite): string {
  let text = sourceCache.get(s);
  if (text === undefined) {
    text =
      '{"file": ' +
      JSON.stringify(s.file) +
      ', "line": ' +
      s.line +
      ', "function": ' +
      JSON.stringify(s.function) +
      '}';
    if (Object.isFrozen(s)) sourceCache.set(s, text);
  }
  return text;
}

/** The JSON line: keys in a fixed order (timestamp first), Python separators, redacted while serialised. */
export function formatJsonLine(r: LineRecord, opts: FormatOptions): string {
  let out =
    '{"timestamp": "' +
    isoTimestamp(r.time) +
    '", "level": "' +
    levelName(r.level) +
    '", "logger": ' +
    loggerJson(r.logger) +
    ', "message": ' +
    dumpRecurring(r.message) +
    ', "correlation_id": ' +
    correlationJson(r.correlationId);
  if (opts.includeSource) {
    const s = r.source;
    out += s ? ', "source": ' + sourceJson(s) : ', "source": null';
  }
  out += ', "extra": ' + dumpMerged(r.context, r.fields, 'error');
  if (r.error !== undefined && r.error !== null) {
    const withStack = opts.includeStackInfo || r.level >= 50;
    out += ', "exception": ' + dumps(exceptionInfo(r.error, withStack));
  }
  return out + '}\n';
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? redactString(v) : dumpString(v);
  return dumps(v);
}

/** `2024-01-15 10:30:00 [INFO] simpletuner.cloud.jobs (abc123def456): message key=value` in UTC. */
export function formatTextLine(r: LineRecord, opts: FormatOptions): string {
  const iso = isoTimestamp(r.time);
  let out = `${iso.slice(0, 10)} ${iso.slice(11, 19)} [${levelName(r.level)}] ${r.logger} (${r.correlationId ?? '-'}): `;
  // One entry per line: control characters in a message are shown escaped.
  out += redactString(r.message).replace(/[\r\n\t]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
  const extra = mergeFields(r.context, r.fields, 'error');
  for (const k in extra) {
    const v = extra[k];
    if (v !== undefined) out += ` ${k}=${isSecretKey(k) ? REDACTED : textValue(v)}`;
  }
  if (r.error !== undefined && r.error !== null) {
    const info = exceptionInfo(r.error, opts.includeStackInfo || r.level >= 50);
    out += ` exception=${info.type}: ${info.message.replace(/\n/g, '\\n')}`;
    if (info.stack)
      out +=
        '\n' +
        info.stack
          .split('\n')
          .map((l) => '    ' + l.trimStart())
          .join('\n');
  }
  return out + '\n';
}
