import { DEFAULT_DURATION_SECONDS, hardwareRate, roundUsd } from '../providers';

/** The longest a job may run (`max_runtime_seconds` is at most this): a week. */
export const MAX_RUNTIME_SECONDS = 7 * 86_400;

export interface CostEstimate {
  hardware_profile: string;
  cost_per_second: number;
  cost_per_hour: number;
  estimated_duration_seconds: number;
  estimated_cost: number;
  basis: 'history' | 'config' | 'default';
  sample_size: number;
}

/** The org's completed jobs on a profile (last 90 days): their mean run time and how many there were. */
export interface RunHistory {
  meanSeconds: number | null;
  count: number;
}

/**
 * Mean duration of the org's completed jobs on this profile in the last 90 days × rate; with no history,
 * `config.estimated_duration_seconds` or 3600 s. Never more than `maxDurationSeconds`: a job that runs longer is
 * stopped, so it cannot cost more (and a wild `estimated_duration_seconds` cannot overflow the price).
 */
export function estimateCost(
  history: RunHistory,
  profile: string,
  config: Record<string, unknown> | undefined,
  overrides: Record<string, unknown>,
  maxDurationSeconds = MAX_RUNTIME_SECONDS,
): CostEstimate {
  const rate = hardwareRate(profile, overrides);
  const configured = Number(config?.estimated_duration_seconds);
  let duration = DEFAULT_DURATION_SECONDS;
  let basis: CostEstimate['basis'] = 'default';
  if (history.count > 0 && history.meanSeconds !== null) {
    duration = history.meanSeconds;
    basis = 'history';
  } else if (Number.isFinite(configured) && configured > 0) {
    duration = configured;
    basis = 'config';
  }
  duration = Math.min(duration, maxDurationSeconds);
  return {
    hardware_profile: profile,
    cost_per_second: rate,
    cost_per_hour: roundUsd(rate * 3600),
    estimated_duration_seconds: Math.round(duration),
    estimated_cost: roundUsd(duration * rate),
    basis,
    sample_size: history.count,
  };
}
