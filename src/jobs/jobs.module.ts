import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProvidersModule } from '../providers';
import { JobHooks } from './job-hooks';
import { JobRecordsService } from './job-records.service';
import { JobStateApplier } from './job-state-applier';
import { JobSubmissionService } from './job-submission.service';
import { JobSyncService } from './job-sync.service';
import { JobTransitionService } from './job-transition.service';
import { Job } from './job.entity';
import { JobsController } from './jobs.controller';
import { JobsMetrics } from './jobs.metrics';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';
import { JobsScheduler } from './jobs.scheduler';
import { PollingController } from './polling.controller';
import { PollingSettingsService } from './polling-settings.service';
import { PollingService } from './polling.service';
import { ProvidersController } from './providers.controller';
import { WebhookController } from './webhook.controller';
import { WebhookService } from './webhook.service';

@Module({
  imports: [TypeOrmModule.forFeature([Job]), ProvidersModule],
  controllers: [JobsController, ProvidersController, PollingController, WebhookController],
  providers: [
    JobsRepository,
    JobHooks,
    JobTransitionService,
    JobRecordsService,
    JobStateApplier,
    JobSyncService,
    JobsService,
    JobSubmissionService,
    PollingSettingsService,
    PollingService,
    JobsScheduler,
    WebhookService,
    JobsMetrics,
  ],
  exports: [
    ProvidersModule,
    JobHooks,
    JobTransitionService,
    JobRecordsService,
    JobStateApplier,
    JobSyncService,
    JobsService,
  ],
})
export class JobsModule {}
