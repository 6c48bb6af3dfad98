import type { Candidate } from './claim.repository';
import type { WaitReason } from './queue-entry.entity';

/** A read in the claim's transaction, under its lock (or, for a view, a plain read). */
export type GateRead = <T>(sql: string, params: unknown[]) => Promise<T[]>;

/** Why a quota keeps an entry waiting at dispatch. */
export type QuotaWaitReason = Extract<WaitReason, 'quota_limit' | 'budget_exhausted'>;

/** One claim's quota check, read under the claim's lock: what the quotas have in use, and the entries' needs. */
export interface GateCheck {
  /** Users and orgs none of whose entries may start now (left out of the per-user read). */
  fullUsers: string[];
  fullOrgs: string[];
  /** Reads what the quotas need to know about these entries (provider, estimate, owner's level, spend). */
  load(candidates: Candidate[]): Promise<void>;
  /**
   * A fresh tally for one pick: for each loaded entry, in dispatch order, why a quota keeps it waiting beside the
   * entries admitted before it (null: it may start, and counts from then on).
   */
  tally(): (c: Candidate) => QuotaWaitReason | null;
}

/**
 * The quotas' part of the claim (bound by the app assembly, like the pipeline steps): `concurrent_jobs` limits per
 * user, org or provider, and cost budgets that actual spend has used up.
 */
export abstract class DispatchGate {
  /** Whether any quota may hold an entry at dispatch (from memory); without one the claim skips the gate. */
  abstract active(): Promise<boolean>;
  /** The check of one claim, reading through `read` (in the claim's transaction) at `now`. */
  abstract open(read: GateRead, now: Date): Promise<GateCheck>;
}
