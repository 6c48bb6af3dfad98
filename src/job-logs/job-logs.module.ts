import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs';
import { JobLogHub } from './job-log-hub';
import { JobLogWriter } from './job-log-writer.service';
import { JobLogsController } from './job-logs.controller';
import { JobLogsMetrics } from './job-logs.metrics';
import { JobLogsRepository } from './job-logs.repository';
import { JobLogsScheduler } from './job-logs.scheduler';
import { JobProgressRepository } from './job-progress.repository';
import { JobProgressService } from './job-progress.service';
import { JobLogsService } from './job-logs.service';
import { LogFollowService } from './log-follow.service';
import { LogStreamService } from './log-stream.service';

/**
 * Stored job logs: the append of providers' log text (JobLogWriter, the jobs pipeline's JobLogsStep) and of the
 * progress it tells, the read and stream routes, and the log follow. Depends on jobs (visibility, the state applier).
 */
@Module({
  imports: [JobsModule],
  controllers: [JobLogsController],
  providers: [
    JobLogsRepository,
    JobLogsMetrics,
    JobLogHub,
    JobProgressRepository,
    JobProgressService,
    JobLogWriter,
    JobLogsService,
    LogStreamService,
    LogFollowService,
    JobLogsScheduler,
  ],
  exports: [JobLogWriter],
})
export class JobLogsModule {}
