import { AccessPolicy } from '../../src/auth/access-policy';
import type { AuthenticatedUser } from '../../src/auth';
import { USER_LEVELS, type UserLevel } from '../../src/common/permissions';
import type { ApprovalRequest, Job, QueueEntry, User } from '../../web/src/api-types';
import { duration, money, relative, waitReason } from '../../web/src/format';
import { canCancel, canDecide, canSetPriority } from '../../web/src/permissions';

/**
 * The page decides which buttons exist with the service's own rules (src/common/permissions), through field-name
 * mappings: a button must be there exactly when the API would accept the action.
 */
describe('dashboard level rules and formatting', () => {
  const org = 'org-a';
  const me = (level: UserLevel, id = 'me', orgId = org): User => ({ id, username: id, level, org_id: orgId }) as User;
  const job = (over: Partial<Job> = {}): Job =>
    ({ job_id: 'j1', user_id: 'owner', org_id: org, status: 'pending', is_terminal: false, ...over }) as Job;
  const entry = (over: Partial<QueueEntry> = {}): QueueEntry =>
    ({ job_id: 'j1', user_id: 'owner', org_id: org, status: 'pending', ...over }) as QueueEntry;
  const request = (over: Partial<ApprovalRequest> = {}): ApprovalRequest =>
    ({
      id: 'r1',
      user_id: 'owner',
      org_id: org,
      status: 'pending',
      required_approver_level: 'lead',
      ...over,
    }) as ApprovalRequest;

  it('cancel: the owner (researcher), a lead of the org, an admin; never a viewer, never a finished job', () => {
    expect(canCancel(me('researcher', 'owner'), job())).toBe(true);
    expect(canCancel(me('researcher'), job())).toBe(false);
    expect(canCancel(me('viewer', 'owner'), job())).toBe(false);
    expect(canCancel(me('lead'), job())).toBe(true);
    expect(canCancel(me('lead', 'me', 'org-b'), job())).toBe(false);
    expect(canCancel(me('admin', 'me', 'org-b'), job())).toBe(true);
    expect(canCancel(me('admin'), job({ status: 'completed', is_terminal: true }))).toBe(false);
    expect(canCancel(me('researcher', 'owner'), job({ status: 'cancelled', is_terminal: true }))).toBe(false);
  });

  it('decide: the rule’s approver level or above, same org unless admin, never one’s own request', () => {
    expect(canDecide(me('lead'), request())).toBe(true);
    expect(canDecide(me('researcher'), request())).toBe(false);
    expect(canDecide(me('researcher'), request({ required_approver_level: 'researcher' }))).toBe(true);
    expect(canDecide(me('viewer'), request({ required_approver_level: 'researcher' }))).toBe(false);
    expect(canDecide(me('lead', 'me', 'org-b'), request())).toBe(false);
    expect(canDecide(me('admin', 'me', 'org-b'), request())).toBe(true);
    expect(canDecide(me('admin', 'owner'), request())).toBe(false);
    expect(canDecide(me('admin'), request({ status: 'approved' }))).toBe(false);
  });

  it('priority: a lead of the job’s organisation or an admin', () => {
    expect([canSetPriority(me('viewer'), entry()), canSetPriority(me('researcher', 'owner'), entry())]).toEqual([
      false,
      false,
    ]);
    expect([canSetPriority(me('lead'), entry()), canSetPriority(me('admin', 'me', 'org-b'), entry())]).toEqual([
      true,
      true,
    ]);
    expect(canSetPriority(me('lead', 'me', 'org-b'), entry())).toBe(false);
  });

  it('offers cancel and decide exactly where the API’s access policy allows them, for every level and relation', () => {
    const policy = new AccessPolicy();
    const disagreements: string[] = [];
    for (const level of USER_LEVELS) {
      for (const [relation, id, orgId] of [
        ['own', 'owner', org],
        ['same org', 'me', org],
        ['other org', 'me', 'org-b'],
      ] as const) {
        const caller = { id, username: id, level, orgId, apiKeyId: 'k' } satisfies AuthenticatedUser;
        const api = policy.canAct(caller, { userId: 'owner', orgId: org });
        if (canCancel(me(level, id, orgId), job()) !== api) disagreements.push(`cancel: ${level}, ${relation}`);
        for (const required of USER_LEVELS) {
          const allowed =
            policy.decisionRefusal(
              caller,
              { userId: 'owner', orgId: org, requiredApproverLevel: required },
              [], // no tie of account creation or key minting between them
            ) === null;
          const shown = canDecide(me(level, id, orgId), request({ required_approver_level: required }));
          if (shown !== allowed) disagreements.push(`decide: ${level}, ${relation}, needs ${required}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('formats money, durations, countdowns and wait reasons for people', () => {
    expect([money(3.499999), money('61'), money(0.002), money(0), money(null)]).toEqual([
      '$3.50',
      '$61.00',
      '< $0.01',
      '$0.00',
      '—',
    ]);
    expect([
      duration(0.3),
      duration(45),
      duration(125),
      duration(1800),
      duration(7260),
      duration(3600),
      duration(null),
    ]).toEqual(['300 ms', '45 s', '2 min 05 s', '30 min', '2 h 01 min', '1 h', '—']);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(relative('2026-01-01T23:59:00Z', now)).toBe('in 23 h 59 min');
    expect(relative('2025-12-31T23:57:00Z', now)).toBe('3 min ago');
    expect(waitReason('user_limit', 'pending')).toBe('Owner is at the per-user limit');
    expect(waitReason(null, 'pending')).toBe('Ready: dispatched at the next free slot');
  });
});
