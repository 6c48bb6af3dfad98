import { Inject, Injectable } from '@nestjs/common';
import { AccessPolicy, AuthenticatedUser, UsersService } from '../auth';
import { bulkError } from '../common/bulk';
import { AUDIT_RECORDER, AuditRecorder } from '../common/audit';
import { Clock } from '../common/clock';
import { ConflictError, NotFoundError, PermissionDeniedError } from '../common/errors';
import { Transactional } from '../database/transactional';
import { EventsService } from '../events';
import type { EventPayloads } from '../events';
import { JobRecordsService, JobTransitionService } from '../jobs';
import { getLogger } from '../logging';
import { APPROVAL_QUEUE, ApprovalQueue } from './approval-ports';
import { ApprovalRequest, ApprovalStatus } from './approval-request.entity';
import { ApprovalExpiry } from './approval-expiry';
import { ApprovalsRepository, DecidedRow } from './approvals.repository';
import { requestView } from './approval-views';

const log = getLogger('simpletuner.cloud.approvals');

/** 409: the request is still `pending` only because the expiry tick has not run since its deadline. */
class DeadlinePassedError extends ConflictError {
  constructor(id: string, expiresAt: Date) {
    super(`Approval request ${id} expired at ${expiresAt.toISOString()}`, { approval_id: id, status: 'expired' });
  }
}

/** One id's outcome in a bulk decision. */
export interface BulkDecision {
  id: string;
  ok: boolean;
  status?: ApprovalStatus;
  error?: { code: string; message: string };
}

export interface ListRequestsOptions {
  status?: ApprovalStatus;
  limit?: number;
  offset?: number;
}

/**
 * A job that matches a rule waits for a person (the request is written by the submit's gate, ApprovalGate), and
 * every decision (approve, reject, cancel, expiry) is a conditional update of a `pending` row done in one
 * transaction with the queue entry, the job and the event, so a decision is never half applied.
 */
@Injectable()
export class ApprovalsService {
  constructor(
    private readonly repo: ApprovalsRepository,
    private readonly transitions: JobTransitionService,
    @Inject(APPROVAL_QUEUE) private readonly queue: ApprovalQueue,
    private readonly events: EventsService,
    private readonly access: AccessPolicy,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
    private readonly expiry: ApprovalExpiry,
    private readonly clock: Clock,
    private readonly users: UsersService,
    private readonly jobs: JobRecordsService,
  ) {}

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
  private async expireIfLate<T>(id: string, now: Date, decision: Promise<T>): Promise<T> {
    try {
      return await decision;
    } catch (err) {
      if (err instanceof DeadlinePassedError) await this.expiry.expireRequest(id, now);
      throw err;
    }
  }

  async approve(
    caller: AuthenticatedUser,
    id: string,
    notes?: string,
    now: Date = this.clock.now(),
  ): Promise<ApprovalRequest> {
    const { jobId } = await this.loadForDecision(caller, id);
    await this.expireIfLate(id, now, this.approveInTransaction(caller, id, jobId, notes ?? null, now));
    const r = await this.reload(id);
    log.info('Approval request approved', { job_id: r.jobId, approval_id: id, reviewed_by: caller.id });
    return r;
  }

  async reject(
    caller: AuthenticatedUser,
    id: string,
    reason: string,
    now: Date = this.clock.now(),
  ): Promise<ApprovalRequest> {
    const { jobId } = await this.loadForDecision(caller, id);
    await this.expireIfLate(id, now, this.rejectInTransaction(caller, id, jobId, reason, now));
    const r = await this.reload(id);
    log.info('Approval request rejected', { job_id: r.jobId, approval_id: id, reviewed_by: caller.id });
    return r;
  }

  /**
   * Approves or rejects each request as its single route would (who may decide, separation of duties, only a
   * pending request), each in its own transaction with its event and audit row: one refused id leaves the others.
   */
  async decideMany(
    caller: AuthenticatedUser,
    action: 'approve' | 'reject',
    ids: string[],
    text: { notes?: string; reason?: string },
  ): Promise<BulkDecision[]> {
    const results: BulkDecision[] = [];
    for (const id of ids) {
      try {
        const r =
          action === 'approve'
            ? await this.approve(caller, id, text.notes)
            : await this.reject(caller, id, text.reason!);
        results.push({ id, ok: true, status: r.status });
      } catch (err) {
        const { status, ...error } = bulkError(err, (e) =>
          log.error('Bulk decision failed', { approval_id: id, error: e }),
        );
        results.push({ id, ok: false, ...(status ? { status: status as ApprovalStatus } : {}), error });
      }
    }
    return results;
  }

  /** The requester withdraws: the request and its job end `cancelled`. */
  async cancel(caller: AuthenticatedUser, id: string): Promise<ApprovalRequest> {
    const r = await this.get(caller, id);
    if (r.userId !== caller.id && caller.level !== 'admin') {
      throw new PermissionDeniedError('Only the requester can cancel an approval request');
    }
    await this.withdrawInTransaction(caller, id, r.jobId);
    log.info('Approval request cancelled', { job_id: r.jobId, approval_id: id });
    return this.reload(id);
  }

  /** The entry joins the queue; the decision, its event and its audit row commit with it. */
  @Transactional()
  private async approveInTransaction(
    caller: AuthenticatedUser,
    id: string,
    jobId: string,
    notes: string | null,
    now: Date,
  ): Promise<void> {
    await this.transitions.lock([jobId]);
    const row = await this.decide(id, 'approved', caller.id, notes, now, true);
    await this.queue.unblock(row.job_id);
    await this.publish(row, 'approval_approved', { approval_id: id, reviewed_by: caller.id, notes });
    await this.recordDecision(caller, id, 'approval.approve');
  }

  @Transactional()
  private async rejectInTransaction(
    caller: AuthenticatedUser,
    id: string,
    jobId: string,
    reason: string,
    now: Date,
  ): Promise<void> {
    await this.transitions.lock([jobId]);
    const row = await this.decide(id, 'rejected', caller.id, reason, now, true);
    await this.endJob(row.job_id, 'cancelled', reason, 'approval_rejected');
    await this.publish(row, 'approval_rejected', { approval_id: id, reviewed_by: caller.id, reason });
    await this.recordDecision(caller, id, 'approval.reject');
  }

  /** Withdrawing is allowed up to the sweep: the job ends cancelled either way. */
  @Transactional()
  private async withdrawInTransaction(caller: AuthenticatedUser, id: string, jobId: string): Promise<void> {
    await this.transitions.lock([jobId]);
    const row = await this.decide(id, 'cancelled', caller.id, null, this.clock.now(), false);
    await this.endJob(row.job_id, 'cancelled', 'Approval request cancelled by the requester', 'approval_cancelled');
    await this.recordDecision(caller, id, 'approval.cancel');
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

  /** Queue entry first, then the job: the job-ended pipeline then finds nothing left to release. */
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
  expireDue(now: Date = this.clock.now(), batchSize = 100): Promise<{ expired: number }> {
    return this.expiry.expireDue(now, batchSize);
  }
}
