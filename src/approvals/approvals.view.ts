import { ApiProperty } from '@nestjs/swagger';
import { BulkCountsView, BulkItemErrorView } from '../common/bulk.view';
import { USER_LEVELS, UserLevel } from '../auth';
import { ApiDateTime, ApiEnum, ApiInt, ApiUuid } from '../openapi';
import { APPROVAL_STATUSES, ApprovalStatus } from './approval-request.entity';
import { RULE_CONDITIONS, RuleCondition } from './rules-engine';

/** A job held for a person's decision. */
export class ApprovalRequestView {
  @ApiUuid()
  id: string;
  @ApiUuid()
  job_id: string;
  /** The requester */
  @ApiUuid()
  user_id: string;
  @ApiUuid()
  org_id: string;
  /** The rule that fired (null once the rule is deleted) */
  @ApiUuid({ nullable: true })
  rule_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'High Cost Jobs' })
  rule_name: string | null;
  @ApiEnum(APPROVAL_STATUSES, 'ApprovalStatus', { example: 'pending' })
  status: ApprovalStatus;
  @ApiProperty({ example: 'Estimated cost $62.50 exceeds $50.00' })
  reason: string;
  /** US dollars */
  @ApiProperty({ type: Number, nullable: true, example: 62.5 })
  estimated_cost: number | null;
  /** Who may decide: this level or above, in the job's organisation (an admin anywhere) */
  @ApiEnum(USER_LEVELS, 'UserLevel', { example: 'lead' })
  required_approver_level: UserLevel;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  expires_at: string;
  /** The user who decided */
  @ApiUuid({ nullable: true })
  reviewed_by: string | null;
  @ApiDateTime({ nullable: true })
  reviewed_at: string | null;
  /** The approver's notes or the rejection reason */
  review_notes: string | null;
}

export class ApprovalRequestListView {
  @ApiProperty({ type: [ApprovalRequestView] })
  requests: ApprovalRequestView[];
  /** Pending requests the caller can see */
  @ApiInt()
  pending_count: number;
}

export class ApprovalRuleView {
  @ApiUuid()
  id: string;
  @ApiProperty({ example: 'High Cost Jobs' })
  name: string;
  description: string | null;
  @ApiEnum(RULE_CONDITIONS, 'RuleCondition', { example: 'cost_exceeds' })
  condition: RuleCondition;
  /** A number for `cost_exceeds` and `daily_jobs_exceed`; a glob, name or `/regex/` for the others */
  @ApiProperty({ oneOf: [{ type: 'number' }, { type: 'string' }], nullable: true, example: 50 })
  threshold: number | string | null;
  is_active: boolean;
  /** Higher is evaluated first */
  @ApiInt()
  priority: number;
  applies_to_provider: string | null;
  @ApiEnum(USER_LEVELS, 'UserLevel', { isArray: true })
  exempt_levels: UserLevel[];
  /** Levels the rule applies to (empty: all) */
  @ApiEnum(USER_LEVELS, 'UserLevel', { isArray: true })
  applies_to_levels: UserLevel[];
  @ApiEnum(USER_LEVELS, 'UserLevel')
  required_approver_level: UserLevel;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

export class ApprovalRuleListView {
  @ApiProperty({ type: [ApprovalRuleView] })
  rules: ApprovalRuleView[];
}

export class DeletedRuleView {
  @ApiProperty({ enum: [true] })
  deleted: true;
  @ApiUuid()
  id: string;
}

export class ExpiredSummaryView {
  /** Requests that expired in this run (their jobs are cancelled) */
  @ApiInt()
  expired: number;
}

/** One id's outcome in a bulk decision. */
export class BulkDecisionResultView {
  @ApiUuid()
  id: string;
  ok: boolean;
  /** The request's status after the decision, or where it stands when refused */
  @ApiEnum(APPROVAL_STATUSES, 'ApprovalStatus', { required: false })
  status?: ApprovalStatus;
  @ApiProperty({ type: BulkItemErrorView, required: false })
  error?: BulkItemErrorView;
}

export class BulkDecisionView extends BulkCountsView {
  /** One per id, in request order */
  @ApiProperty({ type: [BulkDecisionResultView] })
  results: BulkDecisionResultView[];
}
