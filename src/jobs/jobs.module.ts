import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module';
import { JobEventPublisher } from './job-events';
import { JobHooks } from './job-hooks';
import { JobTransitionService } from './job-transition.service';

@Module({
  imports: [ProvidersModule],
  providers: [JobHooks, JobEventPublisher, JobTransitionService],
  exports: [ProvidersModule, JobHooks, JobTransitionService],
})
export class JobsModule {}
