/**
 * The level ranking and the per-action rules that both the service and the dashboard apply. Dependency-free (only
 * src/common's own dependency-free files), because the dashboard bundles it: the page shows a button exactly when
 * the API would accept the action, and the API decides with the same code.
 */
import { isTerminal, type JobStatus } from './job-status';

/** User levels, lowest first: each level may do what the ones before it may. */
export const USER_LEVELS = ['viewer', 'researcher', 'lead', 'admin'] as const;
export type UserLevel = (typeof USER_LEVELS)[number];

export function atLeast(level: UserLevel, required: UserLevel): boolean {
  return USER_LEVELS.indexOf(level) >= USER_LEVELS.indexOf(required);
}

/** The caller, as far as these rules read it. */
export interface Actor {
  id: string;
  level: UserLevel;
  orgId: string;
}

/** What a job, queue entry or approval request belongs to. */
export interface Ownership {
  userId: string | null;
  orgId: string | null;
}

/** Cancelling, deleting or reprioritising a visible job: its owner (researcher up), a lead of its org, an admin. */
export function canAct(actor: Actor, owned: Ownership): boolean {
  if (actor.level === 'admin') return true;
  if (actor.level === 'lead') return owned.orgId === actor.orgId;
  return actor.level === 'researcher' && owned.userId === actor.id;
}

/** Cancelling a job: one that has not finished, by someone who may act on it. */
export function canCancelJob(actor: Actor, job: Ownership & { status: JobStatus }): boolean {
  return !isTerminal(job.status) && canAct(actor, job);
}

/** Retrying a job: one that has finished, by someone who may act on it. */
export function canRetryJob(actor: Actor, job: Ownership & { status: JobStatus }): boolean {
  return isTerminal(job.status) && canAct(actor, job);
}

/** Overriding a waiting job's priority: a lead of its organisation or an admin. */
export function canSetPriority(actor: Actor, owned: Ownership): boolean {
  return atLeast(actor.level, 'lead') && canAct(actor, owned);
}

/**
 * Deciding an approval request, as far as it depends on the caller and the request: never one's own request, the
 * rule's approver level or above (never a viewer), in the request's organisation unless admin. The service adds the
 * independence rule, which needs the database: no tie, in either direction, through the chains of who created whose
 * account and who minted the keys involved (AccessPolicy.decisionRefusal).
 */
export function canDecideApproval(actor: Actor, request: Ownership & { requiredApproverLevel: UserLevel }): boolean {
  if (request.userId === actor.id) return false;
  if (actor.level === 'viewer' || !atLeast(actor.level, request.requiredApproverLevel)) return false;
  return actor.level === 'admin' || request.orgId === actor.orgId;
}
