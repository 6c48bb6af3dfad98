export { JobsModule } from './jobs.module';
export { JobTransitionService } from './job-transition.service';
export type { TransitionResult } from './job-transition.service';
export { JobRecordsService } from './job-records.service';
export { JobHooks } from './job-hooks';
/** @public for enterprise modules (README "Extending"). */
export type { EndedJob, SubmitContext, SubmitHook, TerminalHook } from './job-hooks';
export { inJobScope } from './job-scope';
export { isTerminal } from '../common/job-status';
export type { JobStatus } from '../common/job-status';
export { Job } from './job.entity';
