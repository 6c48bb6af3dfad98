import { Injectable } from '@nestjs/common';
import * as permissions from '../common/permissions';
import type { AuthenticatedUser } from './authenticated-user';
import { atLeast, UserLevel } from './user.entity';

/** Anything that belongs to a user of an organisation: a job, its queue entry, its approval request, its events. */
export interface Owned {
  userId: string | null;
  orgId: string | null;
  /** Events only: the job an event is about (a job event missing its owner is not a notice for everyone). */
  jobId?: string | null;
}

/** Who created a user or a key, for separation of duties. */
export interface Lineage {
  /** The user who created the decider's account. */
  userCreatedBy: string | null;
  /** The user who minted the key the decider uses. */
  keyCreatedBy: string | null;
}

/**
 * Who may see and do what, for every module and for the event stream, in one place (so the rules cannot drift
 * between modules again). Visibility is decided before rights: what a caller may not see is "not found"
 * everywhere, and only an action on something visible can be "forbidden".
 *
 * - admin: everything, in every organisation;
 * - lead: its organisation's jobs, queue entries, approval requests, users (up to lead) and events;
 * - viewer: reads its organisation's jobs, queue positions, approval requests and events, changes nothing;
 * - researcher: its own jobs, their queue entries, approval requests and events.
 */
@Injectable()
export class AccessPolicy {
  /** Whether the caller may see this job, queue entry, approval request or event. */
  canSee(caller: AuthenticatedUser, owned: Owned): boolean {
    if (caller.level === 'admin') return true;
    // A notice about no one (queue limits changed) is for everyone; a job event missing its owner is for admins.
    if (owned.userId === null && owned.orgId === null) return !owned.jobId;
    if (owned.userId !== null && owned.userId === caller.id) return true;
    return (caller.level === 'lead' || caller.level === 'viewer') && owned.orgId === caller.orgId;
  }

  /** The same rule as a filter for list queries: nothing (admin), an organisation, or one user. */
  scope(caller: AuthenticatedUser): { userId?: string; orgId?: string } {
    if (caller.level === 'admin') return {};
    if (caller.level === 'lead' || caller.level === 'viewer') return { orgId: caller.orgId };
    return { userId: caller.id };
  }

  /** Cancelling, deleting or reprioritising a visible job: its owner (researcher up), a lead of its org, an admin. */
  canAct(caller: AuthenticatedUser, owned: Owned): boolean {
    return permissions.canAct(caller, owned); // the dashboard bundles the same rule
  }

  /** A user the caller may see: itself, its organisation's users for a lead, anyone for an admin. */
  canSeeUser(caller: AuthenticatedUser, user: { id: string; orgId: string }): boolean {
    return (
      caller.level === 'admin' || user.id === caller.id || (caller.level === 'lead' && user.orgId === caller.orgId)
    );
  }

  /**
   * Why the caller may not create or change a user of `orgId` at `level` (null = it may): an admin anywhere, a lead
   * in its own organisation up to lead.
   */
  manageRefusal(caller: AuthenticatedUser, orgId: string, level: UserLevel): string | null {
    if (caller.level === 'admin') return null;
    if (caller.level !== 'lead') return 'Only leads and admins manage users';
    if (orgId !== caller.orgId) return 'A lead manages users of its own organisation only';
    if (!atLeast('lead', level)) return 'A lead creates users up to level lead';
    return null;
  }

  /**
   * Why the caller may not decide an approval request it can see (null = it may). Nobody decides their own
   * request, nor one of a user who created their account or minted the key they decide with: a second account
   * of the requester is still the requester.
   */
  decisionRefusal(
    caller: AuthenticatedUser,
    request: { userId: string; orgId: string; requiredApproverLevel: UserLevel },
    lineage: Lineage,
  ): string | null {
    if (request.userId === caller.id) return 'Nobody can decide their own approval request';
    if (lineage.userCreatedBy === request.userId)
      return 'The requester created your account: a decision must come from someone independent of the requester';
    if (lineage.keyCreatedBy === request.userId)
      return 'The requester minted the API key you are using: a decision must come from someone independent of the requester';
    if (!atLeast(caller.level, request.requiredApproverLevel) || caller.level === 'viewer')
      return `This request needs an approver at level ${request.requiredApproverLevel} or above`;
    if (caller.level !== 'admin' && request.orgId !== caller.orgId)
      return 'Approvers can only decide requests of their own organisation';
    return null;
  }
}
