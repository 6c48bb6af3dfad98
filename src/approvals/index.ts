export { ApprovalsModule } from './approvals.module';
export { ApprovalsService } from './approvals.service';
