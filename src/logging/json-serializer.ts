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

/**
 * `extra`: the LogContext fields overlaid by the call's fields, serialised without building the merged object
 * (this runs for every line: no spread, no entries arrays).
 */
export function dumpMerged(
  outer: Record<string, unknown>,
  inner: Record<string, unknown> | undefined,
  skip?: string,
): string {
  let out = '{';
  let first = true;
  for (const k in outer) {
    const v = inner !== undefined && k !== skip && Object.prototype.hasOwnProperty.call(inner, k) ? inner[k] : outer[k];
    if (v === undefined) continue;
    out += (first ? '' : ', ') + member(k, v);
    first = false;
  }
  if (inner !== undefined) {
    for (const k in inner) {
      if (k === skip || Object.prototype.hasOwnProperty.call(outer, k)) continue;
      const v = inner[k];
      if (v === undefined) continue;
      out += (first ? '' : ', ') + member(k, v);
      first = false;
    }
  }
  return out + '}';
}

function member(key: string, v: unknown): string {
  return JSON.stringify(key) + ': ' + (isSecretKey(key) ? `"${REDACTED}"` : dumps(v, 1));
}
