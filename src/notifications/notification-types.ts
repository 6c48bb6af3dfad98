import type { StoredEvent } from '../events';
import type { NotificationChannel } from './notification-channel.entity';

/** The event types channels subscribe to, as notifications name them. */
export const NOTIFICATION_TYPES = [
  'job.submitted',
  'job.started',
  'job.completed',
  'job.failed',
  'job.cancelled',
  'approval.required',
  'approval.approved',
  'approval.rejected',
  'approval.expired',
  'quota.warning',
  'quota.exceeded',
  'quota.threshold',
  'artifact.failed',
  'queue.paused',
  'queue.resumed',
  'provider.circuit_open',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number] | 'test';

const DIRECT: Record<string, NotificationType> = {
  job_submitted: 'job.submitted',
  approval_required: 'approval.required',
  approval_approved: 'approval.approved',
  approval_rejected: 'approval.rejected',
  approval_expired: 'approval.expired',
  quota_warning: 'quota.warning',
  quota_exceeded: 'quota.exceeded',
  quota_threshold: 'quota.threshold',
  artifact_failed: 'artifact.failed',
  queue_paused: 'queue.paused',
  queue_resumed: 'queue.resumed',
  provider_circuit_open: 'provider.circuit_open',
};

const BY_STATUS: Record<string, NotificationType> = {
  running: 'job.started',
  completed: 'job.completed',
  failed: 'job.failed',
  cancelled: 'job.cancelled',
};

/** The notification an event of the log is, or null when it is none (progress, uploads, other status moves). */
export function notificationType(event: Pick<StoredEvent, 'type' | 'data'>): NotificationType | null {
  if (event.type === 'job_status_changed') return BY_STATUS[String(event.data.status)] ?? null;
  return DIRECT[event.type] ?? null;
}

/** The cost an event tells about its job, if any (the min_cost filter). */
function costOf(data: Record<string, unknown>): number | null {
  for (const key of ['cost_usd', 'cost_estimate', 'estimated_cost']) {
    const v = data[key];
    if (typeof v === 'number') return v;
  }
  return null;
}

/**
 * Whether a channel hears an event: it is on, subscribes to the type, owns the event (a user channel its user's
 * events, an org channel its org's events and service-wide notices, a global channel all), and passes its filters.
 */
export function channelHears(
  channel: NotificationChannel,
  type: NotificationType,
  event: Pick<StoredEvent, 'userId' | 'orgId' | 'data'>,
): boolean {
  if (!channel.isActive || !channel.events.includes(type)) return false;
  if (channel.ownerScope === 'user' && event.userId !== channel.userId) return false;
  if (channel.ownerScope === 'org' && event.orgId !== null && event.orgId !== channel.orgId) return false;
  if (channel.ownerScope === 'org' && event.orgId === null && event.userId !== null) return false;
  const { job_owner_only, min_cost } = channel.filters;
  if (job_owner_only && event.userId !== (channel.userId ?? channel.createdBy)) return false;
  if (min_cost !== undefined) {
    const cost = costOf(event.data);
    if (cost !== null && cost < min_cost) return false;
  }
  return true;
}
