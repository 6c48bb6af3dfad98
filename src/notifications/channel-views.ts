import type { NotificationChannel } from './notification-channel.entity';
import type { DeliveryRow } from './deliveries.repository';
import type { ChannelView, DeliveryView } from './notifications.view';

export function channelView(c: NotificationChannel): ChannelView {
  return {
    id: c.id,
    kind: c.kind,
    name: c.name,
    owner_scope: c.ownerScope,
    org_id: c.orgId,
    user_id: c.userId,
    config: c.config,
    events: c.events,
    filters: c.filters,
    is_active: c.isActive,
    disabled_reason: c.disabledReason,
    has_signing_secret: c.secretSealed !== null,
    created_by: c.createdBy,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function deliveryView(d: DeliveryRow): DeliveryView {
  return {
    id: d.id,
    channel_id: d.channel_id,
    event_id: d.event_id,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    duration_ms: d.duration_ms,
    response_excerpt: d.response_excerpt,
    next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
    created_at: iso(d.created_at)!,
    delivered_at: iso(d.delivered_at),
  };
}
