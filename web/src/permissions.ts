import type { ApprovalRequest, Job, Level, Me } from './types';

/**
 * The API's rules, mirrored only to decide what the page shows and enables. The API still checks every action,
 * and its refusal is shown as it comes.
 */
const RANK: Record<Level, number> = { viewer: 0, researcher: 1, lead: 2, admin: 3 };

export const atLeast = (level: Level, required: Level): boolean => RANK[level] >= RANK[required];

/** The owner, a lead of the job's organisation, or an admin; a viewer only reads. */
export function canCancel(me: Me, job: Job): boolean {
  if (job.is_terminal) return false;
  if (me.level === 'admin') return true;
  if (me.level === 'lead') return job.org_id === me.org_id;
  return me.level === 'researcher' && job.user_id === me.id;
}

export const canSetPriority = (me: Me): boolean => atLeast(me.level, 'lead');

/** The rule's approver level or above, in the request's organisation (admin any), never one's own request. */
export function canDecide(me: Me, request: ApprovalRequest): boolean {
  if (request.status !== 'pending' || request.user_id === me.id) return false;
  if (!atLeast(me.level, request.required_approver_level)) return false;
  return me.level === 'admin' || request.org_id === me.org_id;
}

/** Admin-only routes: queue stats and limits, background tasks, polling status. */
export const isAdmin = (me: Me): boolean => me.level === 'admin';
