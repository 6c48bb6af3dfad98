import type { ApprovalRequest } from './approval-request.entity';
import type { ApprovalRule } from './approval-rule.entity';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function requestView(r: ApprovalRequest) {
  return {
    id: r.id,
    job_id: r.jobId,
    user_id: r.userId,
    org_id: r.orgId,
    rule_id: r.ruleId,
    rule_name: r.ruleName,
    status: r.status,
    reason: r.reason,
    estimated_cost: r.estimatedCost,
    required_approver_level: r.requiredApproverLevel,
    created_at: iso(r.createdAt),
    expires_at: iso(r.expiresAt),
    reviewed_by: r.reviewedBy,
    reviewed_at: iso(r.reviewedAt),
    review_notes: r.reviewNotes,
  };
}

/** Numeric conditions show their threshold as a number; patterns and names as strings. */
export function ruleView(r: ApprovalRule) {
  const numeric = r.condition === 'cost_exceeds' || r.condition === 'daily_jobs_exceed';
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    condition: r.condition,
    threshold: numeric && r.threshold !== null ? Number(r.threshold) : r.threshold,
    is_active: r.isActive,
    priority: r.priority,
    applies_to_provider: r.appliesToProvider,
    exempt_levels: r.exemptLevels,
    required_approver_level: r.requiredApproverLevel,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
  };
}
