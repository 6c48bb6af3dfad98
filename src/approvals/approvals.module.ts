import { Module } from '@nestjs/common';
import { EventsModule, EventsService } from '../events';
import { JobsModule } from '../jobs';
import { QueueModule, QueueService } from '../queue';
import { APPROVAL_EVENTS, APPROVAL_QUEUE } from './approval-ports';
import { ApprovalRulesService } from './approval-rules.service';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsScheduler } from './approvals.scheduler';
import { ApprovalsService } from './approvals.service';

/** SPEC §7. Depends on jobs (hooks, transitions), queue (blocked entries) and events; nothing depends on it. */
@Module({
  imports: [JobsModule, QueueModule, EventsModule],
  controllers: [ApprovalsController],
  providers: [
    ApprovalRulesService,
    ApprovalsService,
    ApprovalsScheduler,
    { provide: APPROVAL_QUEUE, useExisting: QueueService },
    { provide: APPROVAL_EVENTS, useExisting: EventsService },
  ],
  exports: [ApprovalsService, ApprovalRulesService],
})
export class ApprovalsModule {}
