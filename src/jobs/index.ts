export { JobsModule } from './jobs.module';
export { JobTransitionService, logStatusChange } from './job-transition.service';
export type { TransitionResult } from './job-transition.service';
export { JobRecordsService } from './job-records.service';
export { JobSecretsService } from './job-secrets.service';
export { ApprovalGateStep, ArtifactsStep, JobLogsStep, QueueStep, QuotaStep, UploadsStep } from './pipeline/steps';
export type { JobLogReport } from './pipeline/steps';
export { JobStateApplier } from './job-state-applier';
export type { PlannedChange } from './job-state-applier';
export type {
  ApplicableQuotas,
  ApprovalHold,
  GateRules,
  QuotaMeasure,
  QuotaOutcome,
  SubmittedJob,
  SubmitterHistory,
} from './pipeline/steps';
/** @public for enterprise modules (README "Extending"). */
export type { EndedJob, JobEndedStep } from './pipeline/steps';
export { JOB_ENDED_EXTENSIONS } from './pipeline/job-ended.pipeline';
export { inJobScope, inScopeOf } from './job-scope';
export { isTerminal } from '../common/job-status';
export type { JobStatus } from '../common/job-status';
export { Job } from './job.entity';
export { JobsService } from './jobs.service';
export { JobArtifactView } from './jobs.view';
