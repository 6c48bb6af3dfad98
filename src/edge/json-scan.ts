/** How deep a request body may nest objects and arrays. Training configs are a few levels deep; 64 is generous. */
export const MAX_JSON_DEPTH = 64;

export interface JsonScan {
  /** Deepest nesting seen before the scan stopped (it stops as soon as `maxDepth` is passed). */
  depth: number;
  tooDeep: boolean;
  /** A string (key or value) holds an escaped NUL (`\u0000`), which PostgreSQL text and jsonb refuse. */
  hasNul: boolean;
  /** A string holds an escaped UTF-16 surrogate (`\ud800`): paired it is fine, alone PostgreSQL refuses it. */
  hasSurrogate: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const LETTER_U = 0x75;
const DIGIT_0 = 0x30;

/** `d`/`D` then 8–9, a–f or A–F: the first two hex digits of a `\uD800`–`\uDFFF` escape. */
function isSurrogateEscape(buf: Uint8Array, i: number): boolean {
  const d = buf[i + 2] | 0x20;
  const next = buf[i + 3] | 0x20;
  return d === 0x64 && (next === 0x38 || next === 0x39 || (next >= 0x61 && next <= 0x66));
}

/**
 * One pass over the raw bytes, before JSON.parse builds anything: a body nested past `maxDepth` is refused without
 * ever becoming a tree that recursive code (validation, our own walks) could overflow the stack on. Works on UTF-8
 * bytes directly: the structural characters are ASCII and never occur inside a multi-byte sequence. Malformed JSON
 * is left for JSON.parse to reject.
 */
export function scanJson(buf: Uint8Array, maxDepth = MAX_JSON_DEPTH): JsonScan {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  let hasNul = false;
  let hasSurrogate = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === BACKSLASH) {
        if (buf[i + 1] === LETTER_U) {
          if (buf[i + 2] === DIGIT_0 && buf[i + 3] === DIGIT_0 && buf[i + 4] === DIGIT_0 && buf[i + 5] === DIGIT_0)
            hasNul = true;
          else if (isSurrogateEscape(buf, i)) hasSurrogate = true;
        }
        i++; // the escaped character cannot end the string
      } else if (c === QUOTE) {
        inString = false;
      }
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > maxDepth) return { depth: deepest, tooDeep: true, hasNul, hasSurrogate };
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return { depth: deepest, tooDeep: false, hasNul, hasSurrogate };
}

/** What PostgreSQL text refuses in a string: a NUL, or half of a UTF-16 surrogate pair. */
export type TextProblem = 'nul' | 'lone_surrogate';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why PostgreSQL would refuse this string as text or jsonb; null when it is fine. */
function textProblem(s: string): TextProblem | null {
  if (s.includes('\0')) return 'nul';
  return LONE_SURROGATE.test(s) ? 'lone_surrogate' : null;
}

/** A key as it can be shown in a field path: NUL and lone surrogates escaped. */
function printable(key: string): string {
  return key.replace(/\0/g, '\\u0000').replace(/[\uD800-\uDFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/**
 * The path of the first string (key or value) PostgreSQL would refuse, e.g. `config.deep.k` or `tags[2]`, and
 * why; null when there is none. Iterative, so any depth is safe.
 */
export function findBadText(value: unknown, root = ''): { field: string; problem: TextProblem } | null {
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) return { field: path || 'body', problem };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`]);
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i];
        const childPath = path ? `${path}.${printable(k)}` : printable(k);
        const problem = textProblem(k);
        if (problem) return { field: childPath, problem };
        stack.push([child, childPath]);
      }
    }
  }
  return null;
}
