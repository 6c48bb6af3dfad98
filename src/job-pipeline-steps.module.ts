import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import { ApprovalGate, ApprovalsModule } from './approvals';
import { ArtifactRecordsService, ArtifactsModule } from './artifacts';
import { ApprovalGateStep, ArtifactsStep, JOB_ENDED_EXTENSIONS, QueueStep, QuotaStep, type JobEndedStep } from './jobs';
import { QueueEntriesService, QueueModule } from './queue';
import { QuotaCheck, QuotasModule } from './quotas';

/**
 * Which module carries out each step of the job pipelines (src/jobs/pipeline): the submit's gate is the approvals
 * module's, its quota check the quotas module's, its enqueue and the release of a slot are the queue's, a completed
 * job's outputs and a deleted job's files are the artifacts', and an embedding app may add steps at the end of the
 * job-ended pipeline. The assembly binds them so that the jobs module names its steps without importing the modules
 * that implement them (they import jobs).
 */
@Global()
@Module({})
export class JobPipelineStepsModule {
  static forRoot(jobEndedSteps: Type<JobEndedStep>[] = []): DynamicModule {
    return {
      module: JobPipelineStepsModule,
      imports: [QueueModule, ApprovalsModule, ArtifactsModule, QuotasModule],
      providers: [
        { provide: ApprovalGateStep, useExisting: ApprovalGate },
        { provide: QueueStep, useExisting: QueueEntriesService },
        { provide: QuotaStep, useExisting: QuotaCheck },
        { provide: ArtifactsStep, useExisting: ArtifactRecordsService },
        { provide: JOB_ENDED_EXTENSIONS, useValue: jobEndedSteps },
      ],
      exports: [ApprovalGateStep, QueueStep, QuotaStep, ArtifactsStep, JOB_ENDED_EXTENSIONS],
    };
  }
}
