/**
 * What the page shows and enables, decided by the service's own rules (src/common/permissions, bundled): this file
 * only maps the API's field names onto them. The API still checks every action, and its refusal is shown as it comes.
 */
import {
  type Actor,
  atLeast,
  canAct,
  canCancelJob,
  canDecideApproval,
  canRetryJob,
  canSetPriority as mayOverridePriority,
} from '../../src/common/permissions';
import type { ApprovalRequest, DispatchPause, Job, QueueEntry, User } from './api-types';

export { atLeast };

const actor = (me: User): Actor => ({ id: me.id, level: me.level, orgId: me.org_id });

export const canCancel = (me: User, job: Job): boolean =>
  canCancelJob(actor(me), { userId: job.user_id, orgId: job.org_id, status: job.status });

export const canRetry = (me: User, job: Job): boolean =>
  canRetryJob(actor(me), { userId: job.user_id, orgId: job.org_id, status: job.status });

/** Whether a bulk action may name the job at all (each action's own rule is the API's, per id). */
export const canActOn = (me: User, job: Job): boolean => canAct(actor(me), { userId: job.user_id, orgId: job.org_id });

export const canSetPriority = (me: User, entry: QueueEntry): boolean =>
  mayOverridePriority(actor(me), { userId: entry.user_id, orgId: entry.org_id });

/** A pending request only; the service also refuses a decider the requester created or minted the key of. */
export const canDecide = (me: User, request: ApprovalRequest): boolean =>
  request.status === 'pending' &&
  canDecideApproval(actor(me), {
    userId: request.user_id,
    orgId: request.org_id,
    requiredApproverLevel: request.required_approver_level,
  });

/** Admin-only routes: queue stats and limits, background tasks, polling status. */
export const isAdmin = (me: User): boolean => atLeast(me.level, 'admin');

/** An admin resumes any paused scope; a lead its own organisation's. */
export const canResume = (me: User, pause: DispatchPause): boolean =>
  me.level === 'admin' || (me.level === 'lead' && pause.scope === 'org' && pause.scope_id === me.org_id);
