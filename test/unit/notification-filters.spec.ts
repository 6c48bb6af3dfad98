import type { NotificationChannel } from '../../src/notifications/notification-channel.entity';
import { channelHears, notificationType } from '../../src/notifications/notification-types';

/** Who hears what: ownership, subscribed types and the job_owner_only / min_cost filters. */
describe('channelHears', () => {
  const channel = (over: Partial<NotificationChannel>): NotificationChannel =>
    ({
      id: 'c',
      isActive: true,
      ownerScope: 'global',
      userId: null,
      orgId: null,
      createdBy: 'creator',
      events: ['job.submitted', 'job.completed'],
      filters: {},
      ...over,
    }) as NotificationChannel;
  const event = (userId: string | null, orgId: string | null, data: Record<string, unknown> = {}) => ({
    userId,
    orgId,
    data,
  });

  it('maps status changes to job notifications and leaves other moves out', () => {
    expect(notificationType({ type: 'job_status_changed', data: { status: 'completed' } })).toBe('job.completed');
    expect(notificationType({ type: 'job_status_changed', data: { status: 'queued' } })).toBeNull();
    expect(notificationType({ type: 'job_progress', data: {} })).toBeNull();
  });

  it('hears only subscribed types, and nothing while switched off', () => {
    expect(channelHears(channel({}), 'job.submitted', event('u', 'o'))).toBe(true);
    expect(channelHears(channel({}), 'job.failed', event('u', 'o'))).toBe(false);
    expect(channelHears(channel({ isActive: false }), 'job.submitted', event('u', 'o'))).toBe(false);
  });

  it("keeps a user's channel to its user's events and an org's channel to its org's", () => {
    const mine = channel({ ownerScope: 'user', userId: 'u' });
    expect(channelHears(mine, 'job.submitted', event('u', 'o'))).toBe(true);
    expect(channelHears(mine, 'job.submitted', event('v', 'o'))).toBe(false);
    const org = channel({ ownerScope: 'org', orgId: 'o' });
    expect(channelHears(org, 'job.submitted', event('v', 'o'))).toBe(true);
    expect(channelHears(org, 'job.submitted', event('v', 'p'))).toBe(false);
    // A service-wide notice (no user, no org) reaches org channels; a user's event without an org does not.
    expect(channelHears(org, 'job.submitted', event(null, null))).toBe(true);
    expect(channelHears(org, 'job.submitted', event('v', null))).toBe(false);
  });

  it("job_owner_only: only the creator's jobs (or the owning user's)", () => {
    const global = channel({ filters: { job_owner_only: true } });
    expect(channelHears(global, 'job.submitted', event('creator', 'o'))).toBe(true);
    expect(channelHears(global, 'job.submitted', event('someone', 'o'))).toBe(false);
    const org = channel({ ownerScope: 'org', orgId: 'o', userId: null, filters: { job_owner_only: true } });
    expect(channelHears(org, 'job.submitted', event('creator', 'o'))).toBe(true);
    expect(channelHears(org, 'job.submitted', event('other', 'o'))).toBe(false);
  });

  it('min_cost: below it is left out, at or above it and events without a cost are heard', () => {
    const dear = channel({ filters: { min_cost: 10 } });
    expect(channelHears(dear, 'job.submitted', event('u', 'o', { cost_estimate: 9.99 }))).toBe(false);
    expect(channelHears(dear, 'job.submitted', event('u', 'o', { cost_estimate: 10 }))).toBe(true);
    expect(channelHears(dear, 'job.completed', event('u', 'o', { cost_usd: 25 }))).toBe(true);
    expect(channelHears(dear, 'job.completed', event('u', 'o', { cost_usd: 2 }))).toBe(false);
    expect(channelHears(dear, 'job.completed', event('u', 'o', {}))).toBe(true);
  });
});
