import { isSecretKey, REDACTED, redactString } from '../common/secrets';

/**
 * JSON with Python's `json.dumps` separators (`": "` and `", "`), so the README's
 * `grep '"correlation_id": "abc123"'` works. Redaction happens here, while serialising: secret-named keys lose
 * their value and every string is scrubbed of secret-looking values.
 */
const MAX_DEPTH = 6;

export function dumpString(s: string): string {
  return JSON.stringify(redactString(s));
}

export function dumps(value: unknown, depth = 0, seen?: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return dumpString(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `"${value.toString()}"`;
    case 'undefined':
    case 'function':
    case 'symbol':
      return 'null';
  }
  if (value === null) return 'null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'null' : `"${value.toISOString()}"`;
  if (value instanceof Error) return dumps({ type: value.name, message: value.message }, depth, seen);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `"<${value.byteLength} bytes>"`;
  if (depth >= MAX_DEPTH) return '"[Object]"';
  const obj = value as object;
  seen ??= new Set();
  if (seen.has(obj)) return '"[Circular]"';
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      if (obj.length === 0) return '[]';
      let out = '[';
      for (let i = 0; i < obj.length; i++) out += (i ? ', ' : '') + dumps(obj[i], depth + 1, seen);
      return out + ']';
    }
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
      return dumps((obj as { toJSON(): unknown }).toJSON(), depth + 1, seen);
    }
    if (obj instanceof Map) return dumpEntries(obj.entries(), depth, seen);
    if (obj instanceof Headers) return dumpEntries(obj.entries(), depth, seen);
    return dumpEntries(Object.entries(obj), depth, seen);
  } finally {
    seen.delete(obj);
  }
}

function dumpEntries(entries: Iterable<[unknown, unknown]>, depth: number, seen: Set<object>): string {
  let out = '{';
  let first = true;
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    const key = String(k);
    out +=
      (first ? '' : ', ') +
      JSON.stringify(key) +
      ': ' +
      (isSecretKey(key) ? `"${REDACTED}"` : dumps(v, depth + 1, seen));
    first = false;
  }
  return out + '}';
}

/**
 * JSON text of strings that recur from line to line (messages, logger names, LogContext values), redacted: one map
 * lookup instead of the secret scan and the escaping on every line. Bounded: long strings are not kept, and a full
 * cache starts afresh, so strings built per line (ids in a message) cannot grow it.
 */
const RECURRING_MAX_ENTRIES = 2000;
const RECURRING_MAX_LENGTH = 256;
const recurring = new Map<string, string>();

export function dumpRecurring(s: string): string {
  let text = recurring.get(s);
  if (text === undefined) {
    text = dumpString(s);
    if (s.length <= RECURRING_MAX_LENGTH) {
      if (recurring.size >= RECURRING_MAX_ENTRIES) recurring.clear();
      recurring.set(s, text);
    }
  }
  return text;
}

/** `"key": ` for a key, or the whole redacted member for a secret-named one; keys are few, so each is kept. */
interface KeyText {
  prefix: string;
  secret: boolean;
}
const keyTexts = new Map<string, KeyText>();

function keyText(key: string): KeyText {
  let t = keyTexts.get(key);
  if (t === undefined) {
    const secret = isSecretKey(key);
    t = { prefix: JSON.stringify(key) + ': ' + (secret ? `"${REDACTED}"` : ''), secret };
    if (keyTexts.size < 10_000) keyTexts.set(key, t);
  }
  return t;
}

function member(key: string, v: unknown): string {
  const t = keyText(key);
  return t.secret ? t.prefix : t.prefix + dumps(v, 1);
}

/**
 * The members of a frozen LogContext whose values are all primitives, serialised once per scope (every line inside
 * it shows them); undefined for anything else, which is serialised per line.
 */
const contextTexts = new WeakMap<object, string>();

function contextMembers(fields: Record<string, unknown>): string | undefined {
  let text = contextTexts.get(fields);
  if (text !== undefined || !Object.isFrozen(fields)) return text;
  text = '';
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object') return undefined;
    const t = keyText(k);
    text += (text === '' ? '' : ', ') + (t.secret ? t.prefix : t.prefix + dumps(v, 1));
  }
  contextTexts.set(fields, text);
  return text;
}

/** LogContext fields overlaid by the call's fields (the call wins for a shared key), minus `skip`. */
export function mergeFields(
  outer: Record<string, unknown>,
  inner: Record<string, unknown> | undefined,
  skip?: string,
): Record<string, unknown> {
  if (!inner) return outer;
  let merged = outer;
  let copied = false;
  for (const k in inner) {
    if (k === skip) continue;
    if (!copied) {
      merged = { ...outer };
      copied = true;
    }
    merged[k] = inner[k];
  }
  return merged;
}

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Whether the call's fields name a LogContext key (then the call's value shows in the context's place). */
function overlaps(outer: Record<string, unknown>, inner: Record<string, unknown>, skip?: string): boolean {
  for (const k in inner) if (k !== skip && hasOwn(outer, k)) return true;
  return false;
}

/**
 * `extra`: the LogContext fields overlaid by the call's fields, serialised without building the merged object
 * (this runs for every line: no spread, no entries arrays). The context's own members come from the per-scope
 * cache when the call's fields leave them as they are.
 */
export function dumpMerged(
  outer: Record<string, unknown>,
  inner: Record<string, unknown> | undefined,
  skip?: string,
): string {
  const cached = inner === undefined || !overlaps(outer, inner, skip) ? contextMembers(outer) : undefined;
  let out = '{';
  let first = true;
  if (cached !== undefined) {
    out += cached;
    first = cached === '';
  } else {
    for (const k in outer) {
      const v = inner !== undefined && k !== skip && hasOwn(inner, k) ? inner[k] : outer[k];
      if (v === undefined) continue;
      out += (first ? '' : ', ') + member(k, v);
      first = false;
    }
  }
  if (inner !== undefined) {
    for (const k in inner) {
      if (k === skip || hasOwn(outer, k)) continue;
      const v = inner[k];
      if (v === undefined) continue;
      out += (first ? '' : ', ') + member(k, v);
      first = false;
    }
  }
  return out + '}';
}
