/** Hardware profiles: per-second prices, `-x2/-x4/-x8` multiply GPUs and price. */
const BASE_RATES: Readonly<Record<string, number>> = Object.freeze({
  l40s: 0.000972222,
  h100: 0.001525,
});
const MULTIPLIERS = [1, 2, 4, 8] as const;
export const DEFAULT_HARDWARE_PROFILE = 'l40s';
export const DEFAULT_DURATION_SECONDS = 3600;

const PROFILE = /^([a-z0-9]+)(?:-x(2|4|8))?$/;

function parseProfile(profile: string): { base: string; gpus: number } | null {
  const m = PROFILE.exec(profile);
  if (!m || !(m[1] in BASE_RATES)) return null;
  return { base: m[1], gpus: m[2] ? Number(m[2]) : 1 };
}

export function isValidProfile(profile: string): boolean {
  return parseProfile(profile) !== null;
}

export function allProfiles(): string[] {
  return Object.keys(BASE_RATES).flatMap((base) => MULTIPLIERS.map((m) => (m === 1 ? base : `${base}-x${m}`)));
}

/**
 * Dollars per second for a profile. `overrides` (a provider config's `hardware_info`) may price a whole profile
 * (`{"h100-x2": 0.004}`) or a base (`{"h100": 0.002}`, then multiplied); unknown profiles throw.
 */
export function hardwareRate(profile: string, overrides: Record<string, unknown> = {}): number {
  const parsed = parseProfile(profile);
  if (!parsed) throw new Error(`Unknown hardware profile ${profile}`);
  const exact = overrides[profile];
  if (typeof exact === 'number' && exact >= 0) return exact;
  const base = overrides[parsed.base];
  const baseRate = typeof base === 'number' && base >= 0 ? base : BASE_RATES[parsed.base];
  return baseRate * parsed.gpus;
}

/**
 * The highest price override accepted, in dollars per second (today's dearest profile costs about $0.012/s). It
 * keeps every estimate (price × at most a week of runtime) a number the database stores.
 */
const MAX_RATE_PER_SECOND = 100;

/**
 * Problems with a `hardware_info` price override, by field (`hardware_info.h100`): each key must be a profile or a
 * base GPU, each value a price per second from 0 to MAX_RATE_PER_SECOND. Empty when it is valid.
 */
export function hardwareOverrideProblems(info: Record<string, unknown>): Record<string, string> {
  const problems: Record<string, string> = {};
  const entries = Object.entries(info);
  if (entries.length > 64) problems.hardware_info = 'at most 64 prices';
  for (const [key, value] of entries.slice(0, 64)) {
    const field = `hardware_info.${key.slice(0, 64)}`;
    if (!(key in BASE_RATES) && !isValidProfile(key)) problems[field] = 'not a hardware profile';
    else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_RATE_PER_SECOND)
      problems[field] = `must be a price per second from 0 to ${MAX_RATE_PER_SECOND}`;
  }
  return problems;
}

/** The Replicate model training this profile. */
export function replicateModelFor(profile: string): { owner: string; name: string } {
  return { owner: 'simpletuner', name: `advanced-trainer-${profile}` };
}

export function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
