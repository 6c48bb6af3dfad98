import { Injectable } from '@nestjs/common';
import * as permissions from '../common/permissions';
import type { AuthenticatedUser } from './authenticated-user';
import { atLeast, UserLevel } from './user.entity';
import type { IndependenceConflict } from './users.repository';

/** Anything that belongs to a user of an organisation: a job, its queue entry, its approval request, its events. */
export interface Owned {
  userId: string | null;
  orgId: string | null;
  /** Events only: the job an event is about (a job event missing its owner is not a notice for everyone). */
  jobId?: string | null;
}

const INDEPENDENT = 'a decision must come from someone independent of the requester';

/** Why a tie between the approver's side and the requester's side refuses the decision. */
function conflictReason(c: IndependenceConflict): string {
  const who =
    c.requesterSide === 'requester' ? 'the requester' : 'the user who minted the API key the job was submitted with';
  if (c.approverSide === 'approver') {
    if (c.relation === 'self')
      return c.requesterSide === 'requester'
        ? 'Nobody can decide their own approval request'
        : `You minted the API key the job was submitted with (or a key that minted it): ${INDEPENDENT}`;
    return c.relation === 'ancestor'
      ? `You created the account of ${who}, directly or through accounts you created: ${INDEPENDENT}`
      : `Your account was created by ${who}, directly or through accounts they created: ${INDEPENDENT}`;
  }
  return c.relation === 'self' && c.requesterSide === 'requester'
    ? `The requester minted the API key you are using: ${INDEPENDENT}`
    : `The API key you are using was minted by someone in the chain of account creation of ${who}: ${INDEPENDENT}`;
}

/**
 * Who may see and do what, for every module and for the event stream, in one place (so the rules cannot drift
 * between modules again). Visibility is decided before rights: what a caller may not see is "not found"
 * everywhere, and only an action on something visible can be "forbidden".
 *
 * - admin: everything, in every organisation;
 * - lead: its organisation's jobs, queue entries, approval requests, events, researchers and viewers;
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

  /**
   * A notification channel the caller may see and manage: its own, its organisation's (a lead: the org's channels
   * and its members' own), any (an admin).
   */
  canSeeChannel(
    caller: AuthenticatedUser,
    ch: { ownerScope: string; userId: string | null; orgId: string | null },
  ): boolean {
    if (caller.level === 'admin' || (ch.userId !== null && ch.userId === caller.id)) return true;
    return caller.level === 'lead' && ch.ownerScope !== 'global' && ch.orgId === caller.orgId;
  }

  /** Why the caller may not own a channel of this scope (null: it may): org channels a lead's own, global an admin. */
  channelScopeRefusal(caller: AuthenticatedUser, scope: string, orgId: string | null): string | null {
    if (caller.level === 'admin' || scope === 'user') return null;
    if (scope === 'global') return 'Only an admin may own global channels';
    return caller.level === 'lead' && orgId === caller.orgId
      ? null
      : 'Only a lead of the organisation or an admin may own its channels';
  }

  /** A user the caller may see: itself, its organisation's users for a lead, anyone for an admin. */
  canSeeUser(caller: AuthenticatedUser, user: { id: string; orgId: string }): boolean {
    return (
      caller.level === 'admin' || user.id === caller.id || (caller.level === 'lead' && user.orgId === caller.orgId)
    );
  }

  /**
   * Why the caller may not create or change a user of `orgId` at `level` (null = it may): an admin anywhere, a lead
   * researchers and viewers of its own organisation (a lead making leads could approve through them).
   */
  manageRefusal(caller: AuthenticatedUser, orgId: string, level: UserLevel): string | null {
    if (caller.level === 'admin') return null;
    if (caller.level !== 'lead') return 'Only leads and admins manage users';
    if (orgId !== caller.orgId) return 'A lead manages users of its own organisation only';
    if (!atLeast('researcher', level)) return 'A lead manages researchers and viewers; only an admin manages leads';
    return null;
  }

  /**
   * Why the caller may not decide an approval request it can see (null = it may). Independent approval: the
   * approver may not be the requester, nor anyone in the requester's chain of account creation (who created whom,
   * transitively, either direction), nor the person who minted the API key the job was submitted with or anyone in
   * that person's chain; the same holds for whoever minted the approver's own key. `conflicts` are the ties found
   * (UsersService.independenceConflicts). Creations and keys by an admin tie no one: an admin may mint a key for
   * any account, so it is trusted with all of them, and decides anything but its own request.
   */
  decisionRefusal(
    caller: AuthenticatedUser,
    request: { userId: string; orgId: string; requiredApproverLevel: UserLevel },
    conflicts: IndependenceConflict[],
  ): string | null {
    if (request.userId === caller.id) return 'Nobody can decide their own approval request';
    // The most direct tie explains best: the approver's own account before its key, the requester before the minter.
    const rank = (c: IndependenceConflict) =>
      (c.approverSide === 'approver' ? 0 : 4) +
      (c.requesterSide === 'requester' ? 0 : 2) +
      (c.relation === 'self' ? 0 : 1);
    const closest = [...conflicts].sort((a, b) => rank(a) - rank(b))[0];
    if (closest) return conflictReason(closest);
    if (!atLeast(caller.level, request.requiredApproverLevel) || caller.level === 'viewer')
      return `This request needs an approver at level ${request.requiredApproverLevel} or above`;
    if (caller.level !== 'admin' && request.orgId !== caller.orgId)
      return 'Approvers can only decide requests of their own organisation';
    return null;
  }

  /**
   * Whether the caller may see a quota (and so manage it, as far as quotaRefusal allows): an admin every quota; a
   * lead the `user` quotas of its organisation's members and its organisation's own `org` quota; nobody else.
   * `subjectOrgId` is the organisation of a user quota's user (or of an org quota: the org itself).
   */
  canSeeQuota(caller: AuthenticatedUser, quota: { scope: string; subjectOrgId: string | null }): boolean {
    if (caller.level === 'admin') return true;
    if (caller.level !== 'lead') return false;
    return (quota.scope === 'user' || quota.scope === 'org') && quota.subjectOrgId === caller.orgId;
  }

  /**
   * Why the caller may not create, change or delete a quota of this scope (null = it may): a lead manages user and
   * org quotas only, never global, level or provider ones; a quota an admin set, a lead may lower or make stricter
   * but never raise, loosen, switch off or delete (`loosens`).
   */
  quotaRefusal(
    caller: AuthenticatedUser,
    quota: { scope: string; adminSet: boolean },
    loosens: boolean,
  ): string | null {
    if (caller.level === 'admin') return null;
    if (caller.level !== 'lead') return 'Only leads and admins manage quotas';
    if (quota.scope !== 'user' && quota.scope !== 'org')
      return `Only an admin manages ${quota.scope} quotas; a lead manages user quotas of its organisation and its organisation's quota`;
    if (quota.adminSet && loosens)
      return 'An admin set this quota: a lead may lower it, never raise, loosen or remove it';
    return null;
  }
}
