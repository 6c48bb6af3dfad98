import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventsModule } from '../events';
import { JobsModule } from '../jobs';
import { QueueModule, QueueService } from '../queue';
import { APPROVAL_QUEUE } from './approval-ports';
import { ApprovalRequest } from './approval-request.entity';
import { ApprovalRule } from './approval-rule.entity';
import { ApprovalsRepository } from './approvals.repository';
import { ApprovalRulesService } from './approval-rules.service';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsScheduler } from './approvals.scheduler';
import { ApprovalsService } from './approvals.service';

/** Approvals. Depends on jobs (hooks, transitions), queue (blocked entries) and events; nothing depends on it. */
@Module({
  imports: [TypeOrmModule.forFeature([ApprovalRequest, ApprovalRule]), JobsModule, QueueModule, EventsModule],
  controllers: [ApprovalsController],
  providers: [
    ApprovalsRepository,
    ApprovalRulesService,
    ApprovalsService,
    ApprovalsScheduler,
    { provide: APPROVAL_QUEUE, useExisting: QueueService },
  ],
  exports: [ApprovalsService, ApprovalRulesService],
})
export class ApprovalsModule {}
