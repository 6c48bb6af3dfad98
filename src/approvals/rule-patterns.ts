import { RE2JS } from 're2js';

/** Patterns are admin-written but run on every submit: bounded so that a rule stays a cheap matcher. */
export const MAX_PATTERN_LENGTH = 200;
/** Inputs longer than this are cut before matching (config names are at most 200 characters). */
const MAX_MATCHED_INPUT_LENGTH = 10_240;

/** A pattern the linear-time engine cannot run, with the feature named (`a backreference (\1)`). */
export class UnsupportedPatternError extends Error {
  constructor(
    readonly feature: string,
    message = `uses ${feature}, which rule patterns do not support (they run in linear time)`,
  ) {
    super(message);
  }
}

/** A compiled rule pattern: a glob, or a `/regex/flags`. Matching time is linear in the input's length. */
export interface RulePattern {
  kind: 'glob' | 'regex';
  /** Globs match the whole input; a regex matches anywhere unless anchored, as in JavaScript. */
  matches(input: string): boolean;
}

const REGEX_LITERAL = /^\/(.+)\/([imsu]*)$/s;

/** `/body/flags` is a regex; anything else is a glob. */
export function isRegexPattern(pattern: string): boolean {
  return REGEX_LITERAL.test(pattern);
}

/** Features of JavaScript regexes that need backtracking; RE2 refuses them, we name them. */
const BACKTRACKING_FEATURES: Array<[RegExp, string]> = [
  [/\(\?=/, 'a lookahead (?=…)'],
  [/\(\?!/, 'a negative lookahead (?!…)'],
  [/\(\?<=/, 'a lookbehind (?<=…)'],
  [/\(\?<!/, 'a negative lookbehind (?<!…)'],
  [/\\k</, 'a named backreference (\\k<…>)'],
  [/\\[1-9]/, 'a backreference (\\1…\\9)'],
];

function compileRegex(body: string, flags: string): RulePattern {
  // Outside a character class only: `[\1]` is not a backreference, but no rule needs it, and naming is a hint.
  for (const [re, feature] of BACKTRACKING_FEATURES) if (re.test(body)) throw new UnsupportedPatternError(feature);
  let re2Flags = 0;
  if (flags.includes('i')) re2Flags |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) re2Flags |= RE2JS.MULTILINE;
  if (flags.includes('s')) re2Flags |= RE2JS.DOTALL;
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(RE2JS.translateRegExp(body), re2Flags);
  } catch (err) {
    const why = (err as Error).message;
    throw new UnsupportedPatternError('syntax', `not a regular expression the linear-time engine accepts (${why})`);
  }
  return { kind: 'regex', matches: (input) => compiled.test(input.slice(0, MAX_MATCHED_INPUT_LENGTH)) };
}

/** The RE2 source for a glob: `**` any text, `*` and `?` within one path segment, `[…]`, `{a,b}`, `\` escapes. */
function globSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    const next = glob[i + 1];
    if ('@!+*?'.includes(c) && next === '(') throw new UnsupportedPatternError(`an extglob ${c}(…)`);
    if (c === '\\' && next !== undefined) {
      out += RE2JS.quote(next);
      i++;
    } else if (c === '*') {
      const double = next === '*';
      out += double ? '.*' : '[^/]*';
      if (double) while (glob[i + 1] === '*') i++;
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        out += characterClass(glob.slice(i + 1, end));
        i = end;
      }
    } else if (c === '{') {
      const end = closingBrace(glob, i);
      const parts = end < 0 ? [] : splitTopLevel(glob.slice(i + 1, end));
      if (parts.length < 2) out += '\\{';
      else {
        out += `(?:${parts.map(globSource).join('|')})`;
        i = end;
      }
    } else {
      out += RE2JS.quote(c);
    }
  }
  return out;
}

function characterClass(body: string): string {
  const negated = body[0] === '!' || body[0] === '^';
  const members = [...(negated ? body.slice(1) : body)]
    .map((ch) => (/[!-/:-@[-`{-~]/.test(ch) && ch !== '-' ? `\\${ch}` : ch))
    .join('');
  return `[${negated ? '^' : ''}${members}]`;
}

function closingBrace(glob: string, open: number): number {
  let depth = 0;
  for (let i = open; i < glob.length; i++) {
    if (glob[i] === '\\') i++;
    else if (glob[i] === '{') depth++;
    else if (glob[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') i++;
    else if (body[i] === '{') depth++;
    else if (body[i] === '}') depth--;
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

/** A glob as a whole-input RE2 match; a leading `!` negates it. Never a backtracking RegExp. */
function compileGlob(glob: string): RulePattern {
  const negated = glob.startsWith('!') && !glob.startsWith('!(');
  const compiled = RE2JS.compile(globSource(negated ? glob.slice(1) : glob), RE2JS.DOTALL);
  return {
    kind: 'glob',
    matches: (input) => compiled.testExact(input.slice(0, MAX_MATCHED_INPUT_LENGTH)) !== negated,
  };
}

/**
 * Compiles a rule's pattern (`globOnly`: a `/…/` is a glob too, as for hardware profiles); throws
 * UnsupportedPatternError naming what the linear-time engine cannot run.
 */
export function compileRulePattern(pattern: string, globOnly = false): RulePattern {
  const regex = globOnly ? null : REGEX_LITERAL.exec(pattern);
  return regex ? compileRegex(regex[1], regex[2]) : compileGlob(pattern);
}

const compiledCache = new Map<string, RulePattern | null>();
const MAX_CACHED = 1000;

/** The compiled pattern, kept across submits; null for a stored pattern that no longer compiles (never matches). */
export function cachedRulePattern(pattern: string, globOnly = false): RulePattern | null {
  const key = `${globOnly ? 'g' : 'p'}${pattern}`;
  let compiled = compiledCache.get(key);
  if (compiled === undefined) {
    try {
      compiled = compileRulePattern(pattern, globOnly);
    } catch {
      compiled = null;
    }
    if (compiledCache.size >= MAX_CACHED) compiledCache.delete(compiledCache.keys().next().value!);
    compiledCache.set(key, compiled);
  }
  return compiled;
}
