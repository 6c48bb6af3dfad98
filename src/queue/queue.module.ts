import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobsModule } from '../jobs';
import { QueueEntry } from './queue-entry.entity';
import { QueueController } from './queue.controller';
import { QueueDispatcher } from './queue-dispatcher';
import { QueueLimitsService } from './queue-limits.service';
import { QueueMetrics } from './queue-metrics';
import { QueueQueryService } from './queue-query.service';
import { QueueRepository } from './queue.repository';
import { QueueScheduler } from './queue.scheduler';
import { QueueService } from './queue.service';

/** Dispatch under limits. Depends on jobs (hooks, transitions, providers); the approvals module calls QueueService. */
@Module({
  imports: [TypeOrmModule.forFeature([QueueEntry]), JobsModule],
  controllers: [QueueController],
  providers: [
    QueueRepository,
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
