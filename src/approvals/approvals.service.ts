import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { AccessPolicy, AuthenticatedUser, UsersService } from '../auth';
import { AUDIT_RECORDER, AuditRecorder } from '../common/audit';
import { AppConfig } from '../config';
import { ConflictError, NotFoundError, PermissionDeniedError } from '../common/errors';
import { EventsService } from '../events';
import type { EventPayloads } from '../events';
import { EndedJob, Job, JobHooks, JobRecordsService, JobTransitionService, SubmitContext } from '../jobs';
import { getLogger } from '../logging';
import { APPROVAL_QUEUE, ApprovalQueue } from './approval-ports';
import { ApprovalRequest, ApprovalStatus } from './approval-request.entity';
import { ApprovalRulesService } from './approval-rules.service';
import { ApprovalExpiry } from './approval-expiry';
import { ApprovalsRepository, DecidedRow } from './approvals.repository';
import { requestView } from './approval-views';
import { candidateRules, evaluateRules, neededCounts, SubmissionFacts } from './rules-engine';

const log = getLogger('simpletuner.cloud.approvals');

/** 409: the request is still `pending` only because the expiry tick has not run since its deadline. */
class DeadlinePassedError extends ConflictError {
  constructor(id: string, expiresAt: Date) {
    super(`Approval request ${id} expired at ${expiresAt.toISOString()}`, { approval_id: id, status: 'expired' });
  }
}

export interface ListRequestsOptions {
  status?: ApprovalStatus;
  limit?: number;
  offset?: number;
}

/**
 * A job that matches a rule waits for a person. The request is created in the submit transaction,
 * and every decision (approve, reject, cancel, expiry) is a conditional update of a `pending` row done in one
 * transaction with the queue entry, the job and the event, so a decision is never half applied.
 */
@Injectable()
export class ApprovalsService implements OnModuleInit {
  private readonly expiry: ApprovalExpiry;

  constructor(
    private readonly tx: TransactionHost,
    private readonly config: AppConfig,
    private readonly repo: ApprovalsRepository,
    private readonly rules: ApprovalRulesService,
    private readonly hooks: JobHooks,
    private readonly transitions: JobTransitionService,
    private readonly jobs: JobRecordsService,
    @Inject(APPROVAL_QUEUE) private readonly queue: ApprovalQueue,
    private readonly events: EventsService,
    private readonly access: AccessPolicy,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
    private readonly users: UsersService,
  ) {
    this.expiry = new ApprovalExpiry(tx, repo, transitions, jobs, queue, events);
  }

  onModuleInit(): void {
    // Order 10: before the queue's hook (20), which makes the entry `blocked` when approval is required.
    this.hooks.addSubmitHook(10, (job, ctx) => this.evaluateSubmission(job, ctx));
    this.hooks.addTerminalHook((ended) => this.closeForEndedJobs(ended));
  }

  /** Runs in the submit transaction: the first matching rule creates the request and flags the job. */
  async evaluateSubmission(job: Job, ctx: SubmitContext): Promise<Partial<SubmitContext> | void> {
    const candidates = candidateRules(await this.rules.activeRules(), ctx.user.level, job.provider);
    if (candidates.length === 0) return;
    const facts = await this.gatherFacts(job, ctx, neededCounts(candidates));
    const match = evaluateRules(candidates, facts);
    if (!match) return;

    const now = new Date();
    const request = await this.repo.createRequest({
      jobId: job.jobId,
      userId: job.userId,
      orgId: job.orgId,
      ruleId: match.rule.id,
      ruleName: match.rule.name,
      requiredApproverLevel: match.rule.requiredApproverLevel,
      status: 'pending' as const,
      reason: match.reason,
      estimatedCost: ctx.costEstimate,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.enterprise.approvalExpiresHours * 3600_000),
    });
    await this.jobs.flagApproval(job, request.id);
    await this.publish(request, 'approval_required', {
      approval_id: request.id,
      rule_id: match.rule.id,
      rule_name: match.rule.name,
      reason: match.reason,
      estimated_cost: ctx.costEstimate,
      required_approver_level: request.requiredApproverLevel,
      expires_at: request.expiresAt.toISOString(),
    });
    log.info('Job requires approval', {
      job_id: job.jobId,
      approval_id: request.id,
      rule: match.rule.name,
      reason: match.reason,
    });
    return { requiresApproval: true, approvalId: request.id, approvalReason: match.reason };
  }

  private async gatherFacts(
    job: Job,
    ctx: SubmitContext,
    needs: { priorJobs: boolean; last24h: boolean },
  ): Promise<SubmissionFacts> {
    let priorJobCount = 1;
    let jobsLast24h = 1;
    if (needs.priorJobs) {
      // Any other job of the user, whatever its status: the one being submitted is already inserted.
      priorJobCount = (await this.jobs.hasOtherJob(job.userId, job.jobId)) ? 1 : 0;
    }
    if (needs.last24h) {
      jobsLast24h = await this.jobs.submissionsInDayBefore(job.userId, job.createdAt ?? new Date(), job.jobId);
    }
    return {
      userLevel: ctx.user.level,
      provider: job.provider,
      hardwareProfile: job.hardwareProfile,
      configName: job.configName,
      costEstimate: ctx.costEstimate,
      priorJobCount,
      jobsLast24h,
    };
  }

  /** A job that ended some other way (cancelled by its owner, say) no longer waits on anyone. */
  private async closeForEndedJobs(ended: EndedJob[]): Promise<void> {
    const waiting = ended.filter(({ job }) => job.requiresApproval);
    if (waiting.length === 0) return;
    const closed = await this.repo.closePendingForJobs(
      waiting.map(({ job }) => ({ jobId: job.jobId, status: job.status })),
    );
    for (const { job, scope } of waiting) {
      const approvalId = closed.get(job.jobId);
      if (!approvalId) continue;
      scope(() =>
        log.info('Approval request closed: job ended', {
          job_id: job.jobId,
          approval_id: approvalId,
          status: job.status,
        }),
      );
    }
  }

  // ---- reading -------------------------------------------------------------------------------------------

  /** A request is seen as its job is: researchers their own, viewers and leads their organisation's, admins all. */
  private visible(caller: AuthenticatedUser, r: ApprovalRequest): boolean {
    return this.access.canSee(caller, r);
  }

  async get(caller: AuthenticatedUser, id: string): Promise<ApprovalRequest> {
    const r = await this.repo.findRequest(id);
    if (!r || !this.visible(caller, r)) throw new NotFoundError(`Approval request ${id} not found`);
    return r;
  }

  /** The caller's view (own org; admin all), newest first, with the number still waiting. */
  async list(
    caller: AuthenticatedUser,
    opts: ListRequestsOptions,
  ): Promise<{ requests: ApprovalRequest[]; pendingCount: number }> {
    const filter = { status: opts.status, limit: opts.limit ?? 50, offset: opts.offset ?? 0 };
    return this.repo.listRequests(this.access.scope(caller), filter);
  }

  // ---- decisions -----------------------------------------------------------------------------------------

  /**
   * Who may decide (AccessPolicy): a request the caller cannot see is 404, like an unknown id; one it can see but
   * may not decide is 403 with the reason (its own request, one of someone who created its account or minted its
   * key, a level below the rule's approver level).
   */
  private async loadForDecision(caller: AuthenticatedUser, id: string): Promise<ApprovalRequest> {
    const r = await this.repo.findRequest(id);
    if (!r || !this.visible(caller, r)) throw new NotFoundError(`Approval request ${id} not found`);
    const [job] = await this.jobs.read([r.jobId]);
    const submitted = { keyId: job?.submittedKeyId ?? null, keyMintedBy: job?.submittedKeyMintedBy ?? null };
    const conflicts = await this.users.independenceConflicts(caller, { userId: r.userId, ...submitted });
    const refusal = this.access.decisionRefusal(caller, r, conflicts);
    if (refusal) throw new PermissionDeniedError(refusal, { required_approver_level: r.requiredApproverLevel });
    return r;
  }

  /**
   * Conditional update: only a `pending` request changes; a second decision finds no row and is a 409. A review
   * decision (`deadline` set) also needs the request to be before its deadline: past it, the request is expired.
   */
  private async decide(
    id: string,
    status: Exclude<ApprovalStatus, 'pending'>,
    reviewer: string | null,
    notes: string | null,
    now: Date,
    deadline: boolean,
  ): Promise<DecidedRow> {
    const row = await this.repo.decide(id, status, reviewer, notes, now, deadline);
    if (row) return row;
    const current = await this.repo.findRequest(id);
    if (current?.status === 'pending') {
      throw new DeadlinePassedError(id, current.expiresAt);
    }
    throw new ConflictError(`Approval request ${id} is already ${current?.status ?? 'gone'}`, {
      approval_id: id,
      status: current?.status ?? null,
    });
  }

  /** A decision that arrives after the deadline expires the request now (as the next tick would) and is a 409. */
  private async reviewInTransaction(id: string, now: Date, fn: () => Promise<void>): Promise<void> {
    try {
      await this.tx.withTransaction(fn);
    } catch (err) {
      if (err instanceof DeadlinePassedError) await this.expiry.expireRequest(id, now);
      throw err;
    }
  }

  async approve(
    caller: AuthenticatedUser,
    id: string,
    notes?: string,
    now: Date = new Date(),
  ): Promise<ApprovalRequest> {
    const { jobId } = await this.loadForDecision(caller, id);
    await this.reviewInTransaction(id, now, async () => {
      await this.transitions.lock([jobId]);
      const row = await this.decide(id, 'approved', caller.id, notes ?? null, now, true);
      await this.queue.unblock(row.job_id);
      await this.publish(row, 'approval_approved', {
        approval_id: id,
        reviewed_by: caller.id,
        notes: notes ?? null,
      });
      await this.recordDecision(caller, id, 'approval.approve');
    });
    const r = await this.reload(id);
    log.info('Approval request approved', { job_id: r.jobId, approval_id: id, reviewed_by: caller.id });
    return r;
  }

  async reject(
    caller: AuthenticatedUser,
    id: string,
    reason: string,
    now: Date = new Date(),
  ): Promise<ApprovalRequest> {
    const { jobId } = await this.loadForDecision(caller, id);
    await this.reviewInTransaction(id, now, async () => {
      await this.transitions.lock([jobId]);
      const row = await this.decide(id, 'rejected', caller.id, reason, now, true);
      await this.endJob(row.job_id, 'cancelled', reason, 'approval_rejected');
      await this.publish(row, 'approval_rejected', { approval_id: id, reviewed_by: caller.id, reason });
      await this.recordDecision(caller, id, 'approval.reject');
    });
    const r = await this.reload(id);
    log.info('Approval request rejected', { job_id: r.jobId, approval_id: id, reviewed_by: caller.id });
    return r;
  }

  /** The requester withdraws: the request and its job end `cancelled`. */
  async cancel(caller: AuthenticatedUser, id: string): Promise<ApprovalRequest> {
    const r = await this.get(caller, id);
    if (r.userId !== caller.id && caller.level !== 'admin') {
      throw new PermissionDeniedError('Only the requester can cancel an approval request');
    }
    const why = 'Approval request cancelled by the requester';
    await this.tx.withTransaction(async () => {
      await this.transitions.lock([r.jobId]);
      // Withdrawing is allowed up to the sweep: the job ends cancelled either way.
      const row = await this.decide(id, 'cancelled', caller.id, null, new Date(), false);
      await this.endJob(row.job_id, 'cancelled', why, 'approval_cancelled');
      await this.recordDecision(caller, id, 'approval.cancel');
    });
    log.info('Approval request cancelled', { job_id: r.jobId, approval_id: id });
    return this.reload(id);
  }

  /** The decision as it now stands, in the audit log (in the decision's transaction). */
  private async recordDecision(caller: AuthenticatedUser, id: string, action: string): Promise<void> {
    const r = await this.reload(id);
    await this.audit.record({
      actor: caller,
      action,
      targetType: 'approval_request',
      targetId: id,
      orgId: r.orgId,
      before: { status: 'pending' },
      after: requestView(r),
    });
  }

  /** Queue entry first, then the job: the job's terminal hooks then find nothing left to release. */
  private async endJob(jobId: string, entry: 'failed' | 'cancelled', message: string, source: string) {
    await this.queue.cancelEntry(jobId, entry, message);
    await this.transitions.transition(jobId, 'cancelled', { patch: { errorMessage: message }, source });
  }

  private async reload(id: string): Promise<ApprovalRequest> {
    const r = await this.repo.findRequest(id);
    if (!r) throw new NotFoundError(`Approval request ${id} not found`);
    return r;
  }

  private publish<K extends 'approval_required' | 'approval_approved' | 'approval_rejected'>(
    r: { jobId: string; userId: string; orgId: string } | DecidedRow,
    type: K,
    data: EventPayloads[K],
  ): Promise<unknown> {
    const ids = 'job_id' in r ? { jobId: r.job_id, userId: r.user_id, orgId: r.org_id } : r;
    return this.events.publish({ type, ...ids, data } as Parameters<EventsService['publish']>[0]);
  }

  // ---- expiry --------------------------------------------------------------------------------------------

  /** Expires every pending request past its deadline at `now`; see ApprovalExpiry. */
  expireDue(now: Date = new Date(), batchSize = 100): Promise<{ expired: number }> {
    return this.expiry.expireDue(now, batchSize);
  }
}
