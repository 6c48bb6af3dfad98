import type { AuthenticatedUser } from '../../auth';
import type { WritePart } from '../../database/combined-write';
import type { NewEvent } from '../../events';
import type { JobStatus } from '../../common/job-status';
import type { Job } from '../job.entity';
import type { JobScope } from '../job-scope';

/**
 * The steps of the job pipelines (submit.pipeline.ts, job-ended.pipeline.ts) that other modules carry out. Each is
 * an abstract class: the jobs module names the step and its typed input and result here, the module that owns the
 * data implements it, and the app assembly (src/job-pipeline-steps.module.ts) binds one to the other. So the
 * pipelines read top to bottom in this module while the dependencies still point from queue and approvals to jobs.
 */

/** A job being submitted, priced, before anything is written. */
export interface SubmittedJob {
  jobId: string;
  userId: string;
  orgId: string;
  provider: string;
  hardwareProfile: string;
  configName: string;
  priority: number;
  costEstimate: number;
  maxAttempts: number;
  /** The submit's time (the clock's): the rows it writes and the approval deadline start here. */
  submittedAt: Date;
}

/** What the jobs table tells the gate about the submitter, read in the submit's one read. */
export interface SubmitterHistory {
  /** Whether the user has any earlier job, whatever its status. */
  hasEarlierJob: boolean;
  /** The user's submissions in the 24 h before this one, this one included. */
  jobsLast24h: number;
}

/** A job held for a person's approval: the request's row and events, written with the job. */
export interface ApprovalHold {
  approvalId: string;
  reason: string;
  write: WritePart;
  events: NewEvent[];
}

/** Step "gate" of a submit, and the approvals' part of a job's end. */
export abstract class ApprovalGateStep {
  /** The first matching rule holds the job for approval (null: it goes straight to the queue). */
  abstract evaluate(
    job: SubmittedJob,
    user: AuthenticatedUser,
    history: SubmitterHistory,
  ): Promise<ApprovalHold | null>;
  /** A request still waiting on a job that ended some other way (cancelled by its owner) closes. */
  abstract closeFor(ended: EndedJob[]): Promise<void>;
}

/** Step "enqueue" of a submit, the queue's part of a job's end, and where a job waits. */
export abstract class QueueStep {
  /** The job's queue entry (`blocked` while held for approval, else `pending`, and the tick woken after the commit). */
  abstract enqueue(job: SubmittedJob, held: boolean): WritePart;
  /** The ended jobs' entries finish and free their slots, in the transaction that ended them. */
  abstract release(ended: EndedJob[]): Promise<void>;
  /** 1-based rank of each job among the pending entries, in dispatch order (absent: not waiting). */
  abstract positions(jobIds: string[]): Promise<Map<string, number>>;
  /** The job's position as an expression over the job id `jobIdSql` (null: not waiting): see JobViewColumns. */
  abstract positionColumn(jobIdSql: string): string;
}

/** The artifacts' part of a job's end and of its deletion: the outputs kept before the provider deletes them. */
export abstract class ArtifactsStep {
  /** Completed jobs' output URLs get their copy rows (copied by the artifacts' task after the commit). */
  abstract record(ended: EndedJob[]): Promise<void>;
  /** Deleted jobs' stored files go too (their rows went with the jobs). */
  abstract jobsDeleted(jobIds: string[]): Promise<void>;
  /** The job's artifacts as a JSON array of JobArtifactView, an expression over the job id: see JobViewColumns. */
  abstract viewsColumn(jobIdSql: string): string;
}

/**
 * What a job view shows from other modules' tables, as SQL expressions over the job's id that the jobs' own read
 * selects beside the job's columns: a page of jobs, its positions and its artifacts are one statement, while each
 * table's SQL is still written by its own repository.
 */
export interface JobViewColumns {
  /** The queue position (int, null when not waiting). */
  queue_position(jobIdSql: string): string;
  /** The artifacts (json array of JobArtifactView, in the order of the outputs). */
  artifacts(jobIdSql: string): string;
}

/** A job that just reached a terminal status, in the transaction that moved it there. */
export interface EndedJob {
  job: Job;
  previous: JobStatus;
  /** The log scope of the work that ended it (a tick's dispatch, a poll), when it runs in one. */
  scope?: JobScope;
}

/** A step an embedding app adds at the end of the job-ended pipeline (createApp's `jobEndedSteps`). */
export interface JobEndedStep {
  onJobsEnded(ended: EndedJob[]): Promise<void>;
}
