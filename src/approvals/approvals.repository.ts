import { Injectable } from '@nestjs/common';
import type { WritePart } from '../database/combined-write';
import { entityRows } from '../database/entity-rows';
import { Db, returnedRows } from '../database/transaction-host';
import { ApprovalRequest, ApprovalStatus } from './approval-request.entity';
import { ApprovalRule } from './approval-rule.entity';

/** The row a conditional update hands back: who the request belongs to. */
export interface DecidedRow {
  id: string;
  job_id: string;
  user_id: string;
  org_id: string;
}

/** A request as a submit creates it (`pending`). */
export type NewRequest = Pick<
  ApprovalRequest,
  | 'id'
  | 'jobId'
  | 'userId'
  | 'orgId'
  | 'ruleId'
  | 'ruleName'
  | 'requiredApproverLevel'
  | 'reason'
  | 'estimatedCost'
  | 'createdAt'
  | 'expiresAt'
>;

/** A request the expiry ended. */
export interface ExpiredRow {
  id: string;
  job_id: string;
  user_id: string;
  org_id: string;
  created_at: Date;
  expires_at: Date;
}

/** The approvals module's SQL: `approval_rules` and `approval_requests`. */
@Injectable()
export class ApprovalsRepository {
  constructor(private readonly db: Db) {}

  // ---- rules --------------------------------------------------------------------------------------------------

  /** Active rules, highest priority first. */
  activeRules(): Promise<ApprovalRule[]> {
    return this.db.tx
      .getRepository(ApprovalRule)
      .find({ where: { isActive: true }, order: { priority: 'DESC', createdAt: 'ASC' } });
  }

  allRules(): Promise<ApprovalRule[]> {
    return this.db.tx.getRepository(ApprovalRule).find({ order: { priority: 'DESC', createdAt: 'ASC' } });
  }

  findRule(id: string): Promise<ApprovalRule | null> {
    return this.db.tx.getRepository(ApprovalRule).findOneBy({ id });
  }

  saveRule(rule: Partial<ApprovalRule>): Promise<ApprovalRule> {
    return this.db.tx.getRepository(ApprovalRule).save(rule);
  }

  async deleteRule(id: string): Promise<void> {
    await this.db.tx.getRepository(ApprovalRule).delete({ id });
  }

  // ---- requests -----------------------------------------------------------------------------------------------

  /** A submitted job's request, as its part of the submit's statement. */
  requestPart(r: NewRequest): WritePart {
    return {
      sql: `INSERT INTO approval_requests (id, job_id, user_id, org_id, rule_id, rule_name, required_approver_level,
                                          reason, estimated_cost, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
      params: [
        r.id,
        r.jobId,
        r.userId,
        r.orgId,
        r.ruleId,
        r.ruleName,
        r.requiredApproverLevel,
        r.reason,
        r.estimatedCost,
        r.createdAt,
        r.expiresAt,
      ],
    };
  }

  findRequest(id: string): Promise<ApprovalRequest | null> {
    return this.db.tx.getRepository(ApprovalRequest).findOneBy({ id });
  }

  /**
   * A page of requests, newest first, and how many of the caller's are still pending (whatever the page's status
   * filter): one statement.
   */
  async listRequests(
    scope: { orgId?: string; userId?: string },
    filter: { status?: ApprovalStatus; limit: number; offset: number },
  ): Promise<{ requests: ApprovalRequest[]; pendingCount: number }> {
    const rows = entityRows(this.db.tx, ApprovalRequest);
    const params: unknown[] = [];
    const scoped: string[] = [];
    if (scope.orgId) scoped.push(`org_id = $${params.push(scope.orgId)}`);
    if (scope.userId) scoped.push(`user_id = $${params.push(scope.userId)}`);
    const page = [...scoped];
    if (filter.status) page.push(`status = $${params.push(filter.status)}`);
    const where = (clauses: string[]) => (clauses.length ? `WHERE ${clauses.join(' AND ')}` : '');
    const limit = `LIMIT $${params.push(filter.limit)} OFFSET $${params.push(filter.offset)}`;
    // The page joined to a one-row count, so the count comes back even for an empty page.
    const found: Record<string, unknown>[] = await this.db.tx.query(
      `SELECT p.*, c.pending_count
         FROM (SELECT count(*)::int AS pending_count FROM approval_requests ${where([...scoped, `status = 'pending'`])}) c
         LEFT JOIN (SELECT ${rows.select} FROM approval_requests ${where(page)}
                     ORDER BY approval_requests.created_at DESC, approval_requests.id ${limit}) p ON true
        ORDER BY p.created_at DESC, p.id`,
      params,
    );
    const pendingCount = found.length > 0 ? Number(found[0].pending_count) : 0;
    return { requests: found.filter((r) => r.id !== null).map((r) => rows.toEntity(r)), pendingCount };
  }

  /**
   * Conditional update: only a `pending` request changes. With `beforeDeadline`, only one whose deadline is still
   * ahead of `now`. Returns the row, or null when nothing changed.
   */
  async decide(
    id: string,
    status: Exclude<ApprovalStatus, 'pending'>,
    reviewer: string | null,
    notes: string | null,
    now: Date,
    beforeDeadline: boolean,
  ): Promise<DecidedRow | null> {
    const rows = returnedRows<DecidedRow>(
      await this.db.tx.query(
        `UPDATE approval_requests SET status = $2, reviewed_by = $3, reviewed_at = $5, review_notes = $4
          WHERE id = $1 AND status = 'pending' AND (NOT $6 OR expires_at > $5)
          RETURNING id, job_id, user_id, org_id`,
        [id, status, reviewer, notes, now, beforeDeadline],
      ),
    );
    return rows[0] ?? null;
  }

  /** Jobs that ended some other way no longer wait: their pending requests are closed. Job id → request id. */
  async closePendingForJobs(jobs: { jobId: string; status: string }[]): Promise<Map<string, string>> {
    const rows = returnedRows<DecidedRow>(
      await this.db.tx.query(
        `UPDATE approval_requests r
            SET status = 'cancelled', reviewed_at = now(), review_notes = 'Job ended as ' || v.status || ' before a decision'
           FROM unnest($1::uuid[], $2::text[]) AS v(job_id, status)
          WHERE r.job_id = v.job_id AND r.status = 'pending'
          RETURNING r.id, r.job_id, r.user_id, r.org_id`,
        [jobs.map((j) => j.jobId), jobs.map((j) => j.status)],
      ),
    );
    return new Map(rows.map((r) => [r.job_id, r.id]));
  }

  /** Pending requests past their deadline at `now`, oldest deadline first. */
  async due(now: Date, limit: number, exclude: string[], onlyId?: string): Promise<{ id: string; job_id: string }[]> {
    return this.db.tx.query(
      `SELECT id, job_id FROM approval_requests
        WHERE status = 'pending' AND expires_at <= $1 AND NOT (id = ANY($3::uuid[]))
          AND ($4::uuid IS NULL OR id = $4::uuid)
        ORDER BY expires_at, id LIMIT $2`,
      [now, limit, exclude, onlyId ?? null],
    );
  }

  /** Expires the still-pending, due requests of these jobs. */
  async expire(jobIds: string[], now: Date): Promise<ExpiredRow[]> {
    return returnedRows<ExpiredRow>(
      await this.db.tx.query(
        `UPDATE approval_requests
            SET status = 'expired', reviewed_at = $1, review_notes = 'Expired without a decision'
          WHERE job_id = ANY($2::uuid[]) AND status = 'pending' AND expires_at <= $1
          RETURNING id, job_id, user_id, org_id, created_at, expires_at`,
        [now, jobIds],
      ),
    );
  }
}
