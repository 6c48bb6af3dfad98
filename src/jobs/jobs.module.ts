import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module';
import { JobDispatchService } from './job-dispatch.service';
import { JobEventPublisher } from './job-events';
import { JobHooks } from './job-hooks';
import { JobStateApplier } from './job-state-applier';
import { JobSyncService } from './job-sync.service';
import { JobTransitionService } from './job-transition.service';
import { JobsController } from './jobs.controller';
import { JobsMetrics } from './jobs.metrics';
import { JobsService } from './jobs.service';
import { PollingController } from './polling.controller';
import { PollingScheduler } from './polling.scheduler';
import { PollingSettingsService } from './polling-settings.service';
import { ProvidersController } from './providers.controller';
import { WebhookController } from './webhook.controller';
import { WebhookService } from './webhook.service';

@Module({
  imports: [ProvidersModule],
  controllers: [JobsController, ProvidersController, PollingController, WebhookController],
  providers: [
    JobHooks,
    JobEventPublisher,
    JobTransitionService,
    JobStateApplier,
    JobDispatchService,
    JobSyncService,
    JobsService,
    PollingSettingsService,
    PollingScheduler,
    WebhookService,
    JobsMetrics,
  ],
  exports: [
    ProvidersModule,
    JobHooks,
    JobTransitionService,
    JobDispatchService,
    JobStateApplier,
    JobSyncService,
    JobsService,
  ],
})
export class JobsModule {}
