import type { Quota } from './quota.entity';
import type { QuotaView } from './quotas.view';

export function quotaView(q: Quota): QuotaView {
  return {
    id: q.id,
    scope: q.scope,
    scope_id: q.scopeId,
    type: q.type,
    limit: q.limit,
    action: q.action,
    is_active: q.isActive,
    created_by: q.createdBy,
    created_at: q.createdAt.toISOString(),
    updated_at: q.updatedAt.toISOString(),
  };
}
