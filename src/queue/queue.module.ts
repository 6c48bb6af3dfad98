import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { QueueController } from './queue.controller';
import { QueueDispatcher } from './queue-dispatcher';
import { QueueEvents } from './queue-events';
import { QueueLimitsService } from './queue-limits.service';
import { QueueMetrics } from './queue-metrics';
import { QueueQueryService } from './queue-query.service';
import { QueueRepository } from './queue.repository';
import { QueueScheduler } from './queue.scheduler';
import { QueueService } from './queue.service';

/** SPEC §6. Depends on jobs (hooks, transitions, providers); the approvals module calls QueueService. */
@Module({
  imports: [JobsModule],
  controllers: [QueueController],
  providers: [
    QueueRepository,
    QueueEvents,
    QueueLimitsService,
    QueueDispatcher,
    QueueQueryService,
    QueueService,
    QueueScheduler,
    QueueMetrics,
  ],
  exports: [QueueService, QueueLimitsService],
})
export class QueueModule {}
