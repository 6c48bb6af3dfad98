import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import { ApprovalGate, ApprovalsModule } from './approvals';
import { ApprovalGateStep, JOB_ENDED_EXTENSIONS, QueueStep, type JobEndedStep } from './jobs';
import { QueueEntriesService, QueueModule } from './queue';

/**
 * Which module carries out each step of the job pipelines (src/jobs/pipeline): the submit's gate is the approvals
 * module's, its enqueue and the release of a slot are the queue's, and an embedding app may add steps at the end of
 * the job-ended pipeline. The assembly binds them so that the jobs module names its steps without importing the
 * modules that implement them (they import jobs).
 */
@Global()
@Module({})
export class JobPipelineStepsModule {
  static forRoot(jobEndedSteps: Type<JobEndedStep>[] = []): DynamicModule {
    return {
      module: JobPipelineStepsModule,
      imports: [QueueModule, ApprovalsModule],
      providers: [
        { provide: ApprovalGateStep, useExisting: ApprovalGate },
        { provide: QueueStep, useExisting: QueueEntriesService },
        { provide: JOB_ENDED_EXTENSIONS, useValue: jobEndedSteps },
      ],
      exports: [ApprovalGateStep, QueueStep, JOB_ENDED_EXTENSIONS],
    };
  }
}
