import type { UserLevel } from '../auth';
import { cachedRulePattern } from './rule-patterns';

/** What a rule tests. The rule's `threshold` is read per condition (a number, a glob, a provider name, a pattern). */
export const RULE_CONDITIONS = [
  'cost_exceeds',
  'first_job',
  'hardware_type',
  'provider',
  'config_pattern',
  'daily_jobs_exceed',
  'user_level',
] as const;
export type RuleCondition = (typeof RULE_CONDITIONS)[number];

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
  /** Levels the rule applies to (empty: all). */
  appliesToLevels: UserLevel[];
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

/** Globs and regexes both run on a linear-time engine: no pattern can make a submit slow. */
function patternMatch(value: string | null, pattern: string | null, globOnly: boolean): boolean {
  if (value === null || pattern === null || pattern === '') return false;
  return cachedRulePattern(pattern, globOnly)?.matches(value) ?? false;
}

function numeric(threshold: string | null): number | null {
  if (threshold === null || threshold.trim() === '') return null;
  const n = Number(threshold);
  return Number.isFinite(n) ? n : null;
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
      return patternMatch(f.hardwareProfile, t, true) ? `Hardware profile ${f.hardwareProfile} matches ${t}` : null;
    case 'provider':
      return t !== null && f.provider === t ? `Jobs on provider ${t} need approval` : null;
    case 'config_pattern':
      return patternMatch(f.configName, t, false) ? `Config ${f.configName} matches ${t}` : null;
    case 'daily_jobs_exceed': {
      const limit = numeric(t);
      return limit !== null && f.jobsLast24h > limit
        ? `${f.jobsLast24h} jobs submitted in the last 24 hours exceeds ${limit}`
        : null;
    }
    case 'user_level':
      return t !== null && f.userLevel === t ? `Jobs of ${t}-level users need approval` : null;
    default:
      return null;
  }
}

/** Active rules that could apply to this user and provider, highest priority first (oldest first on a tie). */
export function candidateRules<R extends RuleInput>(rules: R[], userLevel: UserLevel, provider: string): R[] {
  return rules
    .filter((r) => r.isActive && !r.exemptLevels.includes(userLevel))
    .filter((r) => r.appliesToLevels.length === 0 || r.appliesToLevels.includes(userLevel))
    .filter((r) => r.appliesToProvider === null || r.appliesToProvider === provider)
    .sort((a, b) => b.priority - a.priority || (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
}

/**
 * The first matching active rule by priority decides; exempt levels skip a rule; a provider filter and a levels
 * filter (applies_to_levels) restrict it. Pure: the caller gathers the facts.
 */
export function evaluateRules<R extends RuleInput>(rules: R[], facts: SubmissionFacts): RuleMatch<R> | null {
  for (const rule of candidateRules(rules, facts.userLevel, facts.provider)) {
    const why = conditionReason(rule, facts);
    if (why !== null) return { rule, reason: `${why} (rule "${rule.name}")` };
  }
  return null;
}
