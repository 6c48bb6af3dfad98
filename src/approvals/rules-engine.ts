import picomatch from 'picomatch';
import type { UserLevel } from '../auth';

/** What a rule tests. The rule's `threshold` is read per condition (a number, a glob, a provider name, a pattern). */
export const RULE_CONDITIONS = [
  'cost_exceeds',
  'first_job',
  'hardware_type',
  'provider',
  'config_pattern',
  'daily_jobs_exceed',
] as const;
export type RuleCondition = (typeof RULE_CONDITIONS)[number];

/** Regex patterns are admin-only and bounded so that a rule cannot be made into a slow matcher. */
export const MAX_PATTERN_LENGTH = 200;
/** Config names longer than this are cut before a regex runs on them (bounds backtracking cost). */
const MAX_MATCHED_NAME_LENGTH = 512;

/** The subset of a rule the engine reads; the entity satisfies it. */
export interface RuleInput {
  id: string;
  name: string;
  condition: RuleCondition;
  threshold: string | null;
  isActive: boolean;
  priority: number;
  appliesToProvider: string | null;
  exemptLevels: UserLevel[];
  createdAt?: Date;
}

/** What is known about a submission. Counts are only needed when a candidate rule asks for them. */
export interface SubmissionFacts {
  userLevel: UserLevel;
  provider: string;
  hardwareProfile: string | null;
  configName: string | null;
  costEstimate: number;
  /** Other jobs of this user, any status (0 = this is the first; the service stops counting at 1). */
  priorJobCount: number;
  /** This user's submissions in the rolling last 24 h, this one included. */
  jobsLast24h: number;
}

export interface RuleMatch<R extends RuleInput = RuleInput> {
  rule: R;
  reason: string;
}

/** `/body/flags` is a regex; anything else is a glob. */
export function parseRegexPattern(pattern: string): RegExp | null {
  const m = /^\/(.+)\/([imsu]*)$/s.exec(pattern);
  if (!m) return null;
  return new RegExp(m[1], m[2]);
}

export function isRegexPattern(pattern: string): boolean {
  return /^\/.+\/[imsu]*$/s.test(pattern);
}

function globMatch(value: string | null, glob: string | null): boolean {
  if (value === null || glob === null || glob === '') return false;
  return picomatch.isMatch(value, glob, { dot: true });
}

function numeric(threshold: string | null): number | null {
  if (threshold === null || threshold.trim() === '') return null;
  const n = Number(threshold);
  return Number.isFinite(n) ? n : null;
}

function configPatternMatch(configName: string | null, pattern: string | null): boolean {
  if (configName === null || pattern === null || pattern === '') return false;
  if (!isRegexPattern(pattern)) return globMatch(configName, pattern);
  try {
    return parseRegexPattern(pattern)!.test(configName.slice(0, MAX_MATCHED_NAME_LENGTH));
  } catch {
    // Validated at creation; a pattern that no longer compiles never matches rather than failing every submit.
    return false;
  }
}

/** Why the rule fires for these facts, or null when it does not. */
function conditionReason(rule: RuleInput, f: SubmissionFacts): string | null {
  const t = rule.threshold;
  switch (rule.condition) {
    case 'cost_exceeds': {
      const limit = numeric(t);
      return limit !== null && f.costEstimate > limit
        ? `Estimated cost $${f.costEstimate.toFixed(2)} exceeds $${limit.toFixed(2)}`
        : null;
    }
    case 'first_job':
      return f.priorJobCount === 0 ? 'First job submitted by this user' : null;
    case 'hardware_type':
      return globMatch(f.hardwareProfile, t) ? `Hardware profile ${f.hardwareProfile} matches ${t}` : null;
    case 'provider':
      return t !== null && f.provider === t ? `Jobs on provider ${t} need approval` : null;
    case 'config_pattern':
      return configPatternMatch(f.configName, t) ? `Config ${f.configName} matches ${t}` : null;
    case 'daily_jobs_exceed': {
      const limit = numeric(t);
      return limit !== null && f.jobsLast24h > limit
        ? `${f.jobsLast24h} jobs submitted in the last 24 hours exceeds ${limit}`
        : null;
    }
    default:
      return null;
  }
}

/** Active rules that could apply to this user and provider, highest priority first (oldest first on a tie). */
export function candidateRules<R extends RuleInput>(rules: R[], userLevel: UserLevel, provider: string): R[] {
  return rules
    .filter((r) => r.isActive && !r.exemptLevels.includes(userLevel))
    .filter((r) => r.appliesToProvider === null || r.appliesToProvider === provider)
    .sort((a, b) => b.priority - a.priority || (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
}

/**
 * The first matching active rule by priority decides; exempt levels skip a rule; a provider filter
 * restricts it. Pure: the caller gathers the facts.
 */
export function evaluateRules<R extends RuleInput>(rules: R[], facts: SubmissionFacts): RuleMatch<R> | null {
  for (const rule of candidateRules(rules, facts.userLevel, facts.provider)) {
    const why = conditionReason(rule, facts);
    if (why !== null) return { rule, reason: `${why} (rule "${rule.name}")` };
  }
  return null;
}
