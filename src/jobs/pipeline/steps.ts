import type { AuthenticatedUser, UserLevel } from '../../auth';
import type { WritePart } from '../../database/combined-write';
import type { Statement } from '../../database/locked-write';
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
  /** Not dispatched before this (null: as soon as the queue allows; a past time counts as none). */
  startAfter: Date | null;
  /** Cancelled when still not dispatched this long after the submit (null: no limit). */
  maxWaitSeconds: number | null;
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
  /** The rule that holds it (id and name null when only a quota does) and who may decide. */
  rule: { id: string | null; name: string; requiredApproverLevel: UserLevel };
  write: WritePart;
  events: NewEvent[];
}

/** The approval rules that may hold a submitter's jobs on a provider, loaded before a submit decides. */
export interface GateRules {
  readonly rules: readonly unknown[];
}

/** Step "gate" of a submit, and the approvals' part of a job's end. */
export abstract class ApprovalGateStep {
  /** The first matching rule holds the job for approval (null: it goes straight to the queue). */
  abstract evaluate(
    job: SubmittedJob,
    user: AuthenticatedUser,
    history: SubmitterHistory,
  ): Promise<ApprovalHold | null>;
  /** The rules that may apply to this submitter and provider (from memory, loaded when they changed). */
  abstract prepare(user: AuthenticatedUser, provider: string): Promise<GateRules>;
  /** evaluate() with the rules loaded: decides without the database (a submit may call it while holding locks). */
  abstract evaluateWith(
    rules: GateRules,
    job: SubmittedJob,
    user: AuthenticatedUser,
    history: SubmitterHistory,
  ): ApprovalHold | null;
  /**
   * The job is held because a quota requires approval (`reason` names the quota), decided like a rule whose approver
   * level is `lead`; with a rule's hold as well, one request carries both reasons and the higher approver level.
   */
  abstract holdForQuota(job: SubmittedJob, reason: string, ruleHold: ApprovalHold | null): ApprovalHold;
  /** A request still waiting on a job that ended some other way (cancelled by its owner) closes. */
  abstract closeFor(ended: EndedJob[]): Promise<void>;
}

/** The quotas that apply to one submit, read before it opens its transaction; opaque to the pipeline. */
export interface ApplicableQuotas {
  readonly quotaIds: readonly string[];
}

/** A warn quota the submit passes: the job is accepted and the response says so. */
export interface QuotaWarning {
  quota_id: string;
  type: string;
  limit: number;
  /** What the window holds with this job included. */
  used: number;
}

/** What the quotas decide about a submit they let through (a `block` quota refuses it with a 429 instead). */
export interface QuotaOutcome {
  warnings: QuotaWarning[];
  /** Why a quota holds the job for a lead's approval; null when none does. */
  holdReason: string | null;
  /** Written with the job: warnings, and the first pass of 80 % of a cost quota in a window. */
  events: NewEvent[];
  /** The quotas' own rows written with the job (which 80 % notices went out); null when none. */
  write: WritePart | null;
}

/** How a submit's quotas are measured: the locks that serialise its subjects (in order) and the read under them. */
export interface QuotaMeasure {
  lockKeys: string[];
  read: Statement;
}

/**
 * Step "quotas" of a submit: spend and submission limits, checked with the new job included. The pipeline takes
 * the locks, runs the read and writes the rows in one transaction (LockedWrites); the step says what to lock and
 * read, and decides from what was read.
 */
export abstract class QuotaStep {
  /** The active quotas that apply to this submitter and provider (from memory); null when none does. */
  abstract applicable(user: AuthenticatedUser, provider: string): Promise<ApplicableQuotas | null>;
  /** Which subjects (user, org, provider) to lock, in the fixed order, and what to read at `now` once they are. */
  abstract measure(quotas: ApplicableQuotas, now: Date): QuotaMeasure;
  /**
   * Decides from the read's rows (the job not yet written): throws `quota_exceeded` (429) when a `block` quota
   * would be passed; runs while the locks are held and touches no database.
   */
  abstract decide(quotas: ApplicableQuotas, job: SubmittedJob, rows: unknown[]): QuotaOutcome;
  /**
   * From a read without the locks: whether the job is clear of every quota (nothing to refuse, hold, warn or
   * notice). Then it may be written in one message guarded by guard(), which fails when that is no longer so.
   */
  abstract clear(quotas: ApplicableQuotas, job: SubmittedJob, rows: unknown[]): boolean;
  /** The statement that fails (SQLSTATE QU001) unless the job is still clear of every quota. */
  abstract guard(quotas: ApplicableQuotas, job: SubmittedJob): Statement;
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

/** The uploads' part of retention: dataset uploads the deleted jobs used. */
export abstract class UploadsStep {
  /**
   * Removes those of these uploads made before `cutoff` (their file at the provider, then the row); the caller has
   * left out any a remaining job still uses. How many went; one that cannot be removed now stays, logged.
   */
  abstract removeUnused(uploadIds: string[], cutoff: Date): Promise<number>;
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

/** A provider's report on a job that carried the run's log (a poll, a webhook, a log follow). */
export interface JobLogReport {
  job: Job;
  /** The whole log as the provider returned it. */
  logs: string;
  /** The report ends the run: the log is stored to its last byte, an unfinished last line included. */
  final: boolean;
}

/** The logs' part of a provider report: its new text stored, before the report's status is applied. */
export abstract class JobLogsStep {
  /**
   * Stores the new part of each job's log, redacted with the job's secrets (still there: a report that ends the job
   * is recorded before the transition deletes them).
   */
  abstract record(reports: JobLogReport[]): Promise<void>;
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
