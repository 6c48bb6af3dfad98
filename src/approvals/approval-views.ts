import type { ApprovalRequest } from './approval-request.entity';
import type { ApprovalRule } from './approval-rule.entity';
import type { ApprovalRequestView, ApprovalRuleView } from './approvals.view';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function requestView(r: ApprovalRequest): ApprovalRequestView {
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
    created_at: r.createdAt.toISOString(),
    expires_at: r.expiresAt.toISOString(),
    reviewed_by: r.reviewedBy,
    reviewed_at: iso(r.reviewedAt),
    review_notes: r.reviewNotes,
  };
}

/** Numeric conditions show their threshold as a number; patterns and names as strings. */
export function ruleView(r: ApprovalRule): ApprovalRuleView {
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
    applies_to_levels: r.appliesToLevels ?? [],
    required_approver_level: r.requiredApproverLevel,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}
