import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import { ApprovalGate, ApprovalsModule } from './approvals';
import { ArtifactRecordsService, ArtifactsModule } from './artifacts';
import { JobLogsModule, JobLogWriter } from './job-logs';
import {
  ApprovalGateStep,
  ArtifactsStep,
  JOB_ENDED_EXTENSIONS,
  JobLogsStep,
  QueueStep,
  QuotaStep,
  UploadsStep,
  type JobEndedStep,
} from './jobs';
import { DispatchGate, QueueEntriesService, QueueModule } from './queue';
import { QuotaCheck, QuotaCostThresholds, QuotaDispatchGate, QuotasModule } from './quotas';
import { UploadsModule, UploadsService } from './uploads';

/**
 * Which module carries out each step of the job pipelines (src/jobs/pipeline): the submit's gate is the approvals
 * module's, its quota check (and the claim's quota gate) the quotas module's, its enqueue and the release of a slot are the queue's, a completed
 * job's outputs and a deleted job's files are the artifacts', a deleted job's unused dataset uploads the uploads', the log text a provider report carries is the job
 * logs', a finished job's cost is weighed against the cost quotas' 80 % notices (the quotas' step, first of the
 * job-ended extensions), and an embedding app may add steps at the end of the job-ended pipeline. The assembly binds them so that the
 * jobs module names its steps without importing the modules that implement them (they import jobs).
 */
@Global()
@Module({})
export class JobPipelineStepsModule {
  static forRoot(jobEndedSteps: Type<JobEndedStep>[] = []): DynamicModule {
    return {
      module: JobPipelineStepsModule,
      imports: [QueueModule, ApprovalsModule, ArtifactsModule, QuotasModule, JobLogsModule, UploadsModule],
      providers: [
        { provide: ApprovalGateStep, useExisting: ApprovalGate },
        { provide: QueueStep, useExisting: QueueEntriesService },
        { provide: QuotaStep, useExisting: QuotaCheck },
        { provide: DispatchGate, useExisting: QuotaDispatchGate },
        { provide: ArtifactsStep, useExisting: ArtifactRecordsService },
        { provide: JobLogsStep, useExisting: JobLogWriter },
        { provide: UploadsStep, useExisting: UploadsService },
        { provide: JOB_ENDED_EXTENSIONS, useValue: [QuotaCostThresholds, ...jobEndedSteps] },
      ],
      exports: [
        ApprovalGateStep,
        QueueStep,
        QuotaStep,
        DispatchGate,
        ArtifactsStep,
        JobLogsStep,
        UploadsStep,
        JOB_ENDED_EXTENSIONS,
      ],
    };
  }
}
