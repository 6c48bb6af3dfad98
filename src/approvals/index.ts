export { ApprovalsModule } from './approvals.module';
export { ApprovalsService } from './approvals.service';
export { ApprovalGate } from './approval-gate.service';
