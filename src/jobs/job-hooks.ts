import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth';
import type { Job } from './job.entity';
import type { JobStatus } from '../common/job-status';

/** What submit hooks see and may add to (merged in hook order). */
export interface SubmitContext {
  user: AuthenticatedUser;
  requiresApproval: boolean;
  approvalId?: string;
  approvalReason?: string;
  costEstimate: number;
}

/** A job that just reached a terminal status, and how to run work in its log scope. */
export interface EndedJob {
  job: Job;
  previous: JobStatus;
  scope: <T>(fn: () => T) => T;
}

/** Hooks run inside the caller's unit of work (the submit's or the transition's transaction). */
export type SubmitHook = (job: Job, ctx: SubmitContext) => Promise<Partial<SubmitContext> | void>;
/** Called once per batch of ended jobs (a poll ends many at once): a hook writes them in one statement. */
export type TerminalHook = (ended: EndedJob[]) => Promise<void>;
export type QueueInfoProvider = (jobIds: string[]) => Promise<Map<string, { position: number | null }>>;

/**
 * Extension points other modules (approvals, queue, enterprise) plug into without the jobs module importing them:
 * dependencies point from those modules to jobs, never back.
 */
@Injectable()
export class JobHooks {
  private readonly submitHooks: { order: number; seq: number; hook: SubmitHook }[] = [];
  private readonly terminalHooks: TerminalHook[] = [];
  private queueInfo: QueueInfoProvider | null = null;

  /** Runs inside the submit transaction after the job row is inserted, in ascending `order`. */
  addSubmitHook(order: number, hook: SubmitHook): void {
    this.submitHooks.push({ order, seq: this.submitHooks.length, hook });
    this.submitHooks.sort((a, b) => a.order - b.order || a.seq - b.seq);
  }

  /** Runs inside the transaction that moves a job to a terminal status (the queue releases its slot there). */
  addTerminalHook(hook: TerminalHook): void {
    this.terminalHooks.push(hook);
  }

  setQueueInfoProvider(fn: QueueInfoProvider): void {
    this.queueInfo = fn;
  }

  async runSubmitHooks(job: Job, ctx: SubmitContext): Promise<SubmitContext> {
    let current = ctx;
    for (const { hook } of this.submitHooks) {
      const result = await hook(job, current);
      if (result) current = { ...current, ...result };
    }
    return current;
  }

  async runTerminalHooks(ended: EndedJob[]): Promise<void> {
    if (ended.length === 0) return;
    for (const hook of this.terminalHooks) await hook(ended);
  }

  /** Positions for these jobs; without a queue module every job is "not waiting in a queue" (null). */
  async queuePositions(jobIds: string[]): Promise<Map<string, { position: number | null }>> {
    if (!this.queueInfo || jobIds.length === 0) return new Map();
    return this.queueInfo(jobIds);
  }

  get hasQueue(): boolean {
    return this.queueInfo !== null;
  }
}
