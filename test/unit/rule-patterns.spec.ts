import { performance } from 'node:perf_hooks';
import { compileRulePattern, UnsupportedPatternError } from '../../src/approvals/rule-patterns';

/**
 * Milliseconds the first match of a freshly compiled pattern takes (nothing cached from an earlier input), and its
 * answer. The best of three fresh compilations: a garbage-collection pause or a neighbour process on the machine
 * is not what the pattern costs.
 */
function timed(pattern: string, input: string): { ms: number; matched: boolean } {
  let best = Infinity;
  let matched = false;
  for (let i = 0; i < 3; i++) {
    const fresh = compileRulePattern(pattern);
    const started = performance.now();
    matched = fresh.matches(input);
    best = Math.min(best, performance.now() - started);
  }
  return { ms: best, matched };
}

/** A small deterministic generator, so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Nested quantifiers over a and b: the shapes that make a backtracking engine exponential. */
function nestedQuantifierPattern(rand: () => number, depth = 3): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  if (depth === 0) return pick(['a', 'a?', 'aa', '[ab]', '\\w', '.']);
  const inner = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => nestedQuantifierPattern(rand, depth - 1));
  const group = rand() < 0.5 ? `(${inner.join('')})` : `(${inner.join('|')})`;
  return group + pick(['+', '*', '{1,3}', '+?', '{2,}']);
}

describe('rule patterns run in linear time', () => {
  const TEN_KB = 10 * 1024;

  beforeAll(() => {
    // The engine's own code is compiled by V8 on first use (each of its matchers): not what a pattern costs.
    const warm = ['/^(w|ww)+(up)*$/', '/(x+y?)+z/', '/^[a-z]{2,}\\d*$/i'].map((p) => compileRulePattern(p));
    for (const input of ['wwup', 'w'.repeat(4000), 'xxy'.repeat(2000), `${'ab'.repeat(2000)}9`]) {
      for (const w of warm) w.matches(input);
    }
  });

  it('answers the patterns that froze the service in milliseconds', () => {
    const regex = '/^(a+)+$/';
    const glob = '*a*a*a*a*a*a*a*a*b';
    const cases: Array<[string, string, string, boolean]> = [
      ['/^(a+)+$/ on 34 characters', regex, `${'a'.repeat(33)}!`, false],
      ['/^(a+)+$/ on 10 KB', regex, `${'a'.repeat(TEN_KB - 1)}!`, false],
      ['/^(a+)+$/ matching 10 KB', regex, 'a'.repeat(TEN_KB), true],
      ['the glob on 45 characters', glob, 'a'.repeat(45), false],
      ['the glob on 10 KB', glob, 'a'.repeat(TEN_KB), false],
      ['the glob matching', glob, `${'a'.repeat(40)}b`, true],
    ];
    for (const [label, pattern, input, expected] of cases) {
      const { ms, matched } = timed(pattern, input);
      expect({ label, matched }).toEqual({ label, matched: expected });
      if (ms >= 10) throw new Error(`${label}: ${ms.toFixed(1)} ms`);
    }
  });

  it('evaluates 100 generated nested-quantifier patterns over 10 KB inputs in under 10 ms each, with the answers JavaScript gives on short inputs', () => {
    const rand = prng(20_260_601);
    const inputs = ['a'.repeat(TEN_KB - 1) + '!', 'ab'.repeat(TEN_KB / 2), 'b'.repeat(TEN_KB)];
    const slowest: Array<[string, number]> = [];
    for (let i = 0; i < 100; i++) {
      const body = `^${nestedQuantifierPattern(rand)}$`;
      const compiled = compileRulePattern(`/${body}/`);
      for (const input of inputs) {
        const { ms } = timed(`/${body}/`, input);
        slowest.push([`${body} on ${input.slice(0, 4)}…`, ms]);
      }
      // Same answers as a JavaScript RegExp where backtracking is still cheap.
      const reference = new RegExp(body);
      for (const short of ['', 'a', 'ab', 'aab', 'ba', 'aaaa!', 'abab']) {
        expect([body, short, compiled.matches(short)]).toEqual([body, short, reference.test(short)]);
      }
    }
    slowest.sort((a, b) => b[1] - a[1]);
    expect(slowest).toHaveLength(300);
    const [label, ms] = slowest[0];
    if (ms >= 10) throw new Error(`slowest: ${label} took ${ms.toFixed(1)} ms`);
  });

  it('matches globs as before: whole input, * within a segment, ** across, ?, [...], {a,b}, !, escapes', () => {
    const table: Array<[string, string, boolean]> = [
      ['h100*', 'h100-x8', true],
      ['h100*', 'l40s-x8', false],
      ['*-x{4,8}', 'l40s-x4', true],
      ['*-x{4,8}', 'l40s-x2', false],
      ['sdxl-*', 'flux-sdxl', false],
      ['sdxl-?', 'sdxl-1', true],
      ['[!a]*', 'bcd', true],
      ['[!a]*', 'abc', false],
      ['[a-c]x', 'bx', true],
      ['!prod-*', 'dev-run', true],
      ['!prod-*', 'prod-run', false],
      ['team/*', 'team/a/b', false],
      ['team/**', 'team/a/b', true],
      ['a.b', 'axb', false],
      ['a\\*', 'a*', true],
      ['a\\*', 'ab', false],
      ['{a,b{c,d}}x', 'bdx', true],
      ['(x)', '(x)', true],
      ['.hidden*', '.hidden-run', true],
    ];
    for (const [glob, input, expected] of table) {
      expect([glob, input, compileRulePattern(glob).matches(input)]).toEqual([glob, input, expected]);
    }
    expect(compileRulePattern('/^prod[-_]/i').matches('PROD_run')).toBe(true);
    expect(compileRulePattern('/prod/').matches('preprod-run')).toBe(true);
    expect(compileRulePattern('/(?<team>ml)-\\d+/').matches('ml-42')).toBe(true);
  });

  it('refuses what needs backtracking, naming the feature', () => {
    const refused: Array<[string, RegExp]> = [
      ['/(a)\\1/', /backreference/],
      ['/(?<n>a)\\k<n>/', /named backreference/],
      ['/foo(?=bar)/', /lookahead/],
      ['/foo(?!bar)/', /negative lookahead/],
      ['/(?<=a)b/', /lookbehind/],
      ['!(prod)-*', /extglob !\(/],
      ['+(a|b)', /extglob \+\(/],
      ['/[/', /not a regular expression/],
    ];
    for (const [pattern, feature] of refused) {
      let error: unknown;
      try {
        compileRulePattern(pattern);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(UnsupportedPatternError);
      expect([pattern, (error as Error).message]).toEqual([pattern, expect.stringMatching(feature)]);
    }
  });
});
