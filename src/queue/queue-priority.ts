import { backoffDelay } from '../http';

/** Priority levels; aging and overrides move a job between them. */
export const PRIORITY = { LOW: 0, NORMAL: 10, HIGH: 20, URGENT: 30, CRITICAL: 40 } as const;
export const MAX_PRIORITY = 50;
/** Aging never lifts a job above CRITICAL. */
export const AGING_CAP = PRIORITY.CRITICAL;
export const AGING_STEP = 10;

export interface AgedPriority {
  effective: number;
  /** When the next step is due; null once aging can add nothing more. */
  nextAgingAt: Date | null;
}

/**
 * override ?? base, plus one step per full starvation period since `pendingSince`, capped at 40, never below the
 * starting value (so an override of 50 stays 50). Mirrors the SQL of ClaimRepository.read.
 */
export function agedPriority(
  base: number,
  override: number | null,
  pendingSince: Date | null,
  now: Date,
  starvationMinutes: number,
): AgedPriority {
  const start = override ?? base;
  if (!pendingSince) return { effective: start, nextAgingAt: null };
  const periodMs = starvationMinutes * 60_000;
  const periods = Math.max(0, Math.floor((now.getTime() - pendingSince.getTime()) / periodMs));
  const effective = Math.max(start, Math.min(AGING_CAP, start + AGING_STEP * periods));
  const nextAgingAt =
    start + AGING_STEP * periods < AGING_CAP ? new Date(pendingSince.getTime() + (periods + 1) * periodMs) : null;
  return { effective, nextAgingAt };
}

const BACKOFF_BASE_SECONDS = 30;

/** 30 s·2ⁿ for the n-th retry (n from 0), with ±25 % jitter so a burst of failures does not retry in lockstep. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const opts = { baseDelayMs: BACKOFF_BASE_SECONDS * 1000, maxDelayMs: Infinity, jitter: 'spread' as const };
  return backoffDelay(attempt, opts, random);
}
