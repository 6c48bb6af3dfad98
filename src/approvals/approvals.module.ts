import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventsModule } from '../events';
import { JobsModule } from '../jobs';
import { QueueEntriesService, QueueModule } from '../queue';
import { ApprovalExpiry } from './approval-expiry';
import { ApprovalGate } from './approval-gate.service';
import { APPROVAL_QUEUE } from './approval-ports';
import { ApprovalRequest } from './approval-request.entity';
import { ApprovalRule } from './approval-rule.entity';
import { ApprovalsRepository } from './approvals.repository';
import { ApprovalRulesService } from './approval-rules.service';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsScheduler } from './approvals.scheduler';
import { ApprovalsService } from './approvals.service';

/**
 * Approvals. Depends on jobs (transitions, the gate step it implements), queue (blocked entries) and events; the
 * app assembly binds ApprovalGate to the submit pipeline's gate step.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ApprovalRequest, ApprovalRule]), JobsModule, QueueModule, EventsModule],
  controllers: [ApprovalsController],
  providers: [
    ApprovalsRepository,
    ApprovalRulesService,
    ApprovalGate,
    ApprovalExpiry,
    ApprovalsService,
    ApprovalsScheduler,
    { provide: APPROVAL_QUEUE, useExisting: QueueEntriesService },
  ],
  exports: [ApprovalsService, ApprovalRulesService, ApprovalGate],
})
export class ApprovalsModule {}
