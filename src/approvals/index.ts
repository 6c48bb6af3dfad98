export { ApprovalsModule } from './approvals.module';
export { ApprovalsService } from './approvals.service';
export { ApprovalRulesService } from './approval-rules.service';
export { ApprovalRequest, APPROVAL_STATUSES } from './approval-request.entity';
export type { ApprovalStatus } from './approval-request.entity';
export { ApprovalRule } from './approval-rule.entity';
export { evaluateRules, RULE_CONDITIONS } from './rules-engine';
export type { RuleCondition, SubmissionFacts } from './rules-engine';
