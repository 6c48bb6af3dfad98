import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { atLeast } from '../auth/user.entity';
import { AppConfig } from '../config';
import { ConflictError, NotFoundError, PermissionDeniedError } from '../common/errors';
import { Job, JobHooks, JobStatus, JobTransitionService, SubmitContext } from '../jobs';
import { getLogger } from '../logging';
import { APPROVAL_EVENTS, APPROVAL_QUEUE, ApprovalEvent, ApprovalEvents, ApprovalQueue } from './approval-ports';
import { ApprovalRequest, ApprovalStatus } from './approval-request.entity';
import { ApprovalRulesService } from './approval-rules.service';
import { ApprovalExpiry } from './approval-expiry';
import { candidateRules, evaluateRules, neededCounts, SubmissionFacts } from './rules-engine';

const log = getLogger('simpletuner.cloud.approvals');

/** The row a conditional update hands back: who the request belongs to. */
interface DecidedRow {
  id: string;
  job_id: string;
  user_id: string;
  org_id: string;
}

/** `UPDATE … RETURNING` through the pg driver comes back as [rows, count]. */
export async function updateReturning<T>(manager: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const res = await manager.query(sql, params);
  return (Array.isArray(res) && Array.isArray(res[0]) ? res[0] : res) as T[];
}

/**
 * Every writer that ends a job locks the job row first (the transition function does, and a job cancel then
 * reaches the queue entry and this request through the terminal hooks). Decisions take the same order — job,
 * then request, then entry — so a decision racing a cancel waits instead of deadlocking.
 */
export async function lockJob(manager: EntityManager, jobId: string): Promise<void> {
  await manager.query(`SELECT 1 FROM jobs WHERE job_id = $1 FOR UPDATE`, [jobId]);
}

/** 409: the request is still `pending` only because the expiry tick has not run since its deadline. */
export class DeadlinePassedError extends ConflictError {
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
 * SPEC §7: a job that matches a rule waits for a person. The request is created in the submit transaction,
 * and every decision (approve, reject, cancel, expiry) is a conditional update of a `pending` row done in one
 * transaction with the queue entry, the job and the event, so a decision is never half applied.
 */
@Injectable()
export class ApprovalsService implements OnModuleInit {
  private readonly expiry: ApprovalExpiry;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly rules: ApprovalRulesService,
    private readonly hooks: JobHooks,
    private readonly transitions: JobTransitionService,
    @Inject(APPROVAL_QUEUE) private readonly queue: ApprovalQueue,
    @Inject(APPROVAL_EVENTS) private readonly events: ApprovalEvents,
  ) {
    this.expiry = new ApprovalExpiry(db, transitions, queue, events);
  }

  onModuleInit(): void {
    // Order 10: before the queue's hook (20), which makes the entry `blocked` when approval is required.
    this.hooks.addSubmitHook(10, (manager, job, ctx) => this.evaluateSubmission(manager, job, ctx));
    this.hooks.addTerminalHook((manager, job) => this.closeForEndedJob(manager, job));
  }

  /** Runs in the submit transaction: the first matching rule creates the request and flags the job. */
  async evaluateSubmission(
    manager: EntityManager,
    job: Job,
    ctx: SubmitContext,
  ): Promise<Partial<SubmitContext> | void> {
    const candidates = candidateRules(await this.rules.activeRules(manager), ctx.user.level, job.provider);
    if (candidates.length === 0) return;
    const facts = await this.gatherFacts(manager, job, ctx, neededCounts(candidates));
    const match = evaluateRules(candidates, facts);
    if (!match) return;

    const now = new Date();
    const request = await manager.getRepository(ApprovalRequest).save({
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
    await manager.getRepository(Job).update({ jobId: job.jobId }, { requiresApproval: true, approvalId: request.id });
    job.requiresApproval = true;
    job.approvalId = request.id;
    await this.publish(manager, request, 'approval_required', {
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
    manager: EntityManager,
    job: Job,
    ctx: SubmitContext,
    needs: { priorJobs: boolean; last24h: boolean },
  ): Promise<SubmissionFacts> {
    let priorJobCount = 1;
    let jobsLast24h = 1;
    if (needs.priorJobs) {
      // Any other job of the user, whatever its status: the one being submitted is already inserted.
      const rows: { n: number }[] = await manager.query(
        `SELECT count(*)::int AS n FROM (SELECT 1 FROM jobs WHERE user_id = $1 AND job_id <> $2 LIMIT 1) s`,
        [job.userId, job.jobId],
      );
      priorJobCount = rows[0].n;
    }
    if (needs.last24h) {
      const rows: { n: number }[] = await manager.query(
        `SELECT count(*)::int AS n FROM jobs
          WHERE user_id = $1 AND (created_at > $2::timestamptz - interval '24 hours' OR job_id = $3)`,
        [job.userId, job.createdAt ?? new Date(), job.jobId],
      );
      jobsLast24h = rows[0].n;
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
  private async closeForEndedJob(manager: EntityManager, job: Job): Promise<void> {
    if (!job.requiresApproval) return;
    const rows = await updateReturning<DecidedRow>(
      manager,
      `UPDATE approval_requests SET status = 'cancelled', reviewed_at = now(), review_notes = $2
        WHERE job_id = $1 AND status = 'pending' RETURNING id, job_id, user_id, org_id`,
      [job.jobId, `Job ended as ${job.status} before a decision`],
    );
    if (rows.length > 0)
      log.info('Approval request closed: job ended', {
        job_id: job.jobId,
        approval_id: rows[0].id,
        status: job.status,
      });
  }

  // ---- reading -------------------------------------------------------------------------------------------

  private visible(caller: AuthenticatedUser, r: ApprovalRequest): boolean {
    return caller.level === 'admin' || r.orgId === caller.orgId || r.userId === caller.id;
  }

  async get(caller: AuthenticatedUser, id: string): Promise<ApprovalRequest> {
    const r = await this.db.getRepository(ApprovalRequest).findOneBy({ id });
    if (!r || !this.visible(caller, r)) throw new NotFoundError(`Approval request ${id} not found`);
    return r;
  }

  /** The caller's view (own org; admin all), newest first, with the number still waiting. */
  async list(
    caller: AuthenticatedUser,
    opts: ListRequestsOptions,
  ): Promise<{ requests: ApprovalRequest[]; pendingCount: number }> {
    const repo = this.db.getRepository(ApprovalRequest);
    const scope = caller.level === 'admin' ? {} : { orgId: caller.orgId };
    const requests = await repo.find({
      where: { ...scope, ...(opts.status ? { status: opts.status } : {}) },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: opts.limit ?? 50,
      skip: opts.offset ?? 0,
    });
    const pendingCount = await repo.countBy({ ...scope, status: 'pending' });
    return { requests, pendingCount };
  }

  // ---- decisions -----------------------------------------------------------------------------------------

  /**
   * Who may decide: the rule's approver level or above, in the request's org (admin any), never the requester.
   * An approver of another org is told 403 (issue #8); anyone else who cannot see the request gets 404 (SPEC §3).
   */
  private async loadForDecision(caller: AuthenticatedUser, id: string): Promise<ApprovalRequest> {
    const r = await this.db.getRepository(ApprovalRequest).findOneBy({ id });
    if (!r) throw new NotFoundError(`Approval request ${id} not found`);
    const approverLevel = atLeast(caller.level, r.requiredApproverLevel);
    if (!this.visible(caller, r)) {
      if (!approverLevel) throw new NotFoundError(`Approval request ${id} not found`);
      throw new PermissionDeniedError('Approvers can only decide requests of their own organisation');
    }
    if (r.userId === caller.id) throw new PermissionDeniedError('Nobody can decide their own approval request');
    if (!approverLevel) {
      throw new PermissionDeniedError(`This request needs an approver at level ${r.requiredApproverLevel} or above`, {
        required_approver_level: r.requiredApproverLevel,
      });
    }
    return r;
  }

  /**
   * Conditional update: only a `pending` request changes; a second decision finds no row and is a 409. A review
   * decision (`deadline` set) also needs the request to be before its deadline: past it, the request is expired.
   */
  private async decide(
    manager: EntityManager,
    id: string,
    status: Exclude<ApprovalStatus, 'pending'>,
    reviewer: string | null,
    notes: string | null,
    now: Date,
    deadline: boolean,
  ): Promise<DecidedRow> {
    const rows = await updateReturning<DecidedRow>(
      manager,
      `UPDATE approval_requests SET status = $2, reviewed_by = $3, reviewed_at = $5, review_notes = $4
        WHERE id = $1 AND status = 'pending' AND (NOT $6 OR expires_at > $5)
        RETURNING id, job_id, user_id, org_id`,
      [id, status, reviewer, notes, now, deadline],
    );
    if (rows.length > 0) return rows[0];
    const current = await manager.getRepository(ApprovalRequest).findOneBy({ id });
    if (current?.status === 'pending') {
      throw new DeadlinePassedError(id, current.expiresAt);
    }
    throw new ConflictError(`Approval request ${id} is already ${current?.status ?? 'gone'}`, {
      approval_id: id,
      status: current?.status ?? null,
    });
  }

  /** A decision that arrives after the deadline expires the request now (as the next tick would) and is a 409. */
  private async reviewInTransaction(id: string, now: Date, fn: (m: EntityManager) => Promise<void>): Promise<void> {
    try {
      await this.db.transaction(fn);
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
    await this.reviewInTransaction(id, now, async (m) => {
      await lockJob(m, jobId);
      const row = await this.decide(m, id, 'approved', caller.id, notes ?? null, now, true);
      await this.queue.unblock(m, row.job_id);
      await this.publish(m, row, 'approval_approved', {
        approval_id: id,
        reviewed_by: caller.id,
        notes: notes ?? null,
      });
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
    await this.reviewInTransaction(id, now, async (m) => {
      await lockJob(m, jobId);
      const row = await this.decide(m, id, 'rejected', caller.id, reason, now, true);
      await this.endJob(m, row.job_id, 'cancelled', reason, 'approval_rejected');
      await this.publish(m, row, 'approval_rejected', { approval_id: id, reviewed_by: caller.id, reason });
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
    await this.db.transaction(async (m) => {
      await lockJob(m, r.jobId);
      // Withdrawing is allowed up to the sweep: the job ends cancelled either way.
      const row = await this.decide(m, id, 'cancelled', caller.id, null, new Date(), false);
      await this.endJob(m, row.job_id, 'cancelled', why, 'approval_cancelled');
    });
    log.info('Approval request cancelled', { job_id: r.jobId, approval_id: id });
    return this.reload(id);
  }

  /** Queue entry first, then the job: the job's terminal hooks then find nothing left to release. */
  private async endJob(
    m: EntityManager,
    jobId: string,
    entry: 'failed' | 'cancelled',
    message: string,
    source: string,
  ) {
    await this.queue.cancelEntry(m, jobId, entry, message);
    const to: JobStatus = 'cancelled';
    await this.transitions.transition(m, jobId, to, { patch: { errorMessage: message }, source });
  }

  private async reload(id: string): Promise<ApprovalRequest> {
    return this.db.getRepository(ApprovalRequest).findOneByOrFail({ id });
  }

  private publish(
    manager: EntityManager,
    r: { jobId: string; userId: string; orgId: string } | DecidedRow,
    type: ApprovalEvent['type'],
    data: Record<string, unknown>,
  ): Promise<unknown> {
    const ids = 'job_id' in r ? { jobId: r.job_id, userId: r.user_id, orgId: r.org_id } : r;
    return this.events.publish(manager, { type, ...ids, data: { job_id: ids.jobId, ...data } });
  }

  // ---- expiry --------------------------------------------------------------------------------------------

  /** Expires every pending request past its deadline at `now`; see ApprovalExpiry. */
  expireDue(now: Date = new Date(), batchSize = 100): Promise<{ expired: number }> {
    return this.expiry.expireDue(now, batchSize);
  }
}
