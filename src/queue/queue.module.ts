import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobsModule } from '../jobs';
import { ClaimRepository } from './claim.repository';
import { QueueEntry } from './queue-entry.entity';
import { QueueController } from './queue.controller';
import { DispatchPausesController } from './dispatch-pauses.controller';
import { DispatchPausesRepository } from './dispatch-pauses.repository';
import { DispatchPausesService } from './dispatch-pauses.service';
import { DispatchRecorder } from './dispatch-recorder';
import { QueueDispatcher } from './queue-dispatcher';
import { QueueEntriesService } from './queue-entries.service';
import { QueueLimitsService } from './queue-limits.service';
import { QueueMetrics } from './queue-metrics';
import { QueueQueryService } from './queue-query.service';
import { QueueRepository } from './queue.repository';
import { QueueScheduler } from './queue.scheduler';
import { QueueService } from './queue.service';
import { QueueWaitsService } from './queue-waits.service';

/**
 * Dispatch under limits. Depends on jobs (transitions, providers, the pipeline steps it implements); the approvals
 * module calls QueueEntriesService.
 */
@Module({
  imports: [TypeOrmModule.forFeature([QueueEntry]), JobsModule],
  controllers: [QueueController, DispatchPausesController],
  providers: [
    QueueRepository,
    DispatchPausesRepository,
    DispatchPausesService,
    ClaimRepository,
    QueueEntriesService,
    QueueLimitsService,
    DispatchRecorder,
    QueueDispatcher,
    QueueQueryService,
    QueueService,
    QueueWaitsService,
    QueueScheduler,
    QueueMetrics,
  ],
  exports: [QueueService, QueueEntriesService, QueueLimitsService],
})
export class QueueModule {}
