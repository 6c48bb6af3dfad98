import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProvidersModule } from '../providers';
import { UploadsModule } from '../uploads';
import { JobEventsController } from './job-events.controller';
import { JobEventsService } from './job-events.service';
import { JobRecordsService } from './job-records.service';
import { JobStateApplier } from './job-state-applier';
import { JobSyncService } from './job-sync.service';
import { JobTransitionService } from './job-transition.service';
import { Job } from './job.entity';
import { JobsController } from './jobs.controller';
import { JobsMetrics } from './jobs.metrics';
import { JobRetentionService } from './job-retention.service';
import { JobsRepository } from './jobs.repository';
import { JobViewsRepository } from './job-views.repository';
import { JobsService } from './jobs.service';
import { JobsScheduler } from './jobs.scheduler';
import { PollingController } from './polling.controller';
import { PollingSettingsService } from './polling-settings.service';
import { PollingService } from './polling.service';
import { ProviderCredentialsController } from './provider-credentials.controller';
import { ProvidersController } from './providers.controller';
import { WebhookController } from './webhook.controller';
import { WebhookService } from './webhook.service';
import { JobBulkService } from './job-bulk.service';
import { JobOperationsController } from './job-operations.controller';
import { JobRetryService } from './job-retry.service';
import { JobEndedPipeline } from './pipeline/job-ended.pipeline';
import { JobSecretsRepository } from './job-secrets.repository';
import { JobSecretsService } from './job-secrets.service';
import { SubmitIntake } from './pipeline/submit-intake.service';
import { SubmitPipeline } from './pipeline/submit.pipeline';

@Module({
  imports: [TypeOrmModule.forFeature([Job]), ProvidersModule, UploadsModule],
  controllers: [
    JobsController,
    JobOperationsController,
    JobEventsController,
    ProvidersController,
    ProviderCredentialsController,
    PollingController,
    WebhookController,
  ],
  providers: [
    JobsRepository,
    JobViewsRepository,
    JobSecretsRepository,
    JobSecretsService,
    JobEndedPipeline,
    JobTransitionService,
    JobRecordsService,
    JobStateApplier,
    JobSyncService,
    JobsService,
    JobEventsService,
    SubmitIntake,
    SubmitPipeline,
    JobRetryService,
    JobBulkService,
    PollingSettingsService,
    PollingService,
    JobsScheduler,
    WebhookService,
    JobsMetrics,
    JobRetentionService,
  ],
  exports: [
    ProvidersModule,
    JobTransitionService,
    JobRecordsService,
    JobSecretsService,
    JobStateApplier,
    JobSyncService,
    JobsService,
  ],
})
export class JobsModule {}
