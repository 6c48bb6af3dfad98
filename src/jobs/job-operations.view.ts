import { ApiProperty } from '@nestjs/swagger';
import { BulkCountsView, BulkItemErrorView } from '../common/bulk.view';
import { JOB_STATUSES, type JobStatus } from '../common/job-status';
import { ApiEnum, ApiUuid } from '../openapi';
import { SubmittedJobView } from './jobs.view';

/** A retry's answer: the new job, as a submission answers, and the job it retries. */
export class RetriedJobView extends SubmittedJobView {
  @ApiUuid()
  retry_of: string;
}

/** One id's outcome in a bulk job action. */
export class BulkJobResultView {
  @ApiUuid()
  job_id: string;
  ok: boolean;
  /** The job's status after the action (cancel), or the new job's (retry), or where it stands when refused */
  @ApiEnum(JOB_STATUSES, 'JobStatus', { required: false })
  status?: JobStatus;
  /** The retry's new job */
  @ApiUuid({ required: false })
  new_job_id?: string;
  @ApiProperty({ type: BulkItemErrorView, required: false })
  error?: BulkItemErrorView;
}

export class BulkJobsView extends BulkCountsView {
  /** One per id, in request order */
  @ApiProperty({ type: [BulkJobResultView] })
  results: BulkJobResultView[];
}
