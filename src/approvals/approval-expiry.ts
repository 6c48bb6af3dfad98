import type { DataSource, EntityManager } from 'typeorm';
import { LogContext, runWithCorrelationId } from '../context';
import type { JobTransitionService } from '../jobs';
import { getLogger } from '../logging';
import type { ApprovalEvents, ApprovalQueue } from './approval-ports';

const log = getLogger('simpletuner.cloud.approvals');

export const EXPIRED_ENTRY_MESSAGE = 'Approval request expired (auto-rejected after timeout)';
export const EXPIRED_EVENT_MESSAGE = 'Approval request expired and job was auto-rejected';

interface ExpiredRow {
  id: string;
  job_id: string;
  user_id: string;
  org_id: string;
  created_at: Date;
  expires_at: Date;
  correlation_id: string | null;
}

/**
 * The expiry of SPEC §7: every pending request past its deadline — all of them, in batches — becomes `expired`,
 * and in the SAME transaction its queue entry `failed`, its job `cancelled` and one `approval_expired` event.
 * A crash or an error anywhere in a batch rolls the whole batch back: no request is expired with a live job.
 */
export class ApprovalExpiry {
  constructor(
    private readonly db: DataSource,
    private readonly transitions: JobTransitionService,
    private readonly queue: ApprovalQueue,
    private readonly events: ApprovalEvents,
  ) {}

  async expireDue(now: Date, batchSize: number): Promise<{ expired: number }> {
    let expired = 0;
    const poisoned: string[] = [];
    for (;;) {
      try {
        const batch = await this.db.transaction((m) => this.expireBatch(m, now, batchSize, poisoned));
        expired += batch.expired;
        if (!batch.full) break;
      } catch (err) {
        // One bad job must not hold back every other expiry: retry this batch one request per transaction,
        // and leave the failing ones pending (a later tick tries them again).
        log.warning('Approval expiry batch failed; retrying its requests one by one', { error: err });
        const due = await this.dueRequests(now, batchSize, poisoned);
        for (const { id, job_id } of due) {
          try {
            expired += (await this.db.transaction((m) => this.expireBatch(m, now, 1, poisoned, id))).expired;
          } catch (one) {
            poisoned.push(id);
            log.error('Failed to expire approval request', { approval_id: id, job_id, error: one });
          }
        }
        if (due.length < batchSize) break;
      }
    }
    if (expired > 0) log.info(`Expired ${expired} approval requests`, { count: expired });
    return { expired };
  }

  /** Expires one request at once (a decision arrived after its deadline); false when it was not due or pending. */
  async expireRequest(id: string, now: Date): Promise<boolean> {
    const { expired } = await this.db.transaction((m) => this.expireBatch(m, now, 1, [], id));
    if (expired > 0) log.info('Approval request expired before a decision', { approval_id: id });
    return expired > 0;
  }

  private async dueRequests(now: Date, limit: number, exclude: string[]): Promise<{ id: string; job_id: string }[]> {
    return this.db.query(
      `SELECT id, job_id FROM approval_requests
        WHERE status = 'pending' AND expires_at <= $1 AND NOT (id = ANY($3::uuid[]))
        ORDER BY expires_at, id LIMIT $2`,
      [now, limit, exclude],
    );
  }

  /**
   * One transaction: lock the jobs of up to `limit` due requests (job rows first, the order every job writer
   * uses; SKIP LOCKED lets instances share the work and passes over a job someone is cancelling right now),
   * expire the requests still pending, then end each job.
   */
  private async expireBatch(
    m: EntityManager,
    now: Date,
    limit: number,
    exclude: string[],
    onlyId?: string,
  ): Promise<{ expired: number; full: boolean }> {
    const locked: { job_id: string }[] = await m.query(
      `SELECT j.job_id FROM approval_requests r JOIN jobs j ON j.job_id = r.job_id
        WHERE r.status = 'pending' AND r.expires_at <= $1 AND NOT (r.id = ANY($3::uuid[]))
          AND ($4::uuid IS NULL OR r.id = $4::uuid)
        ORDER BY r.expires_at, r.id LIMIT $2
        FOR UPDATE OF j SKIP LOCKED`,
      [now, limit, exclude, onlyId ?? null],
    );
    if (locked.length === 0) return { expired: 0, full: false };
    const res = await m.query(
      `UPDATE approval_requests r
          SET status = 'expired', reviewed_at = $1, review_notes = 'Expired without a decision'
         FROM jobs j
        WHERE j.job_id = r.job_id AND r.job_id = ANY($2::uuid[]) AND r.status = 'pending' AND r.expires_at <= $1
        RETURNING r.id, r.job_id, r.user_id, r.org_id, r.created_at, r.expires_at, j.correlation_id`,
      [now, locked.map((l) => l.job_id)],
    );
    const rows = (Array.isArray(res[0]) ? res[0] : res) as ExpiredRow[];
    const outer = LogContext.current();
    for (const row of rows) {
      // Lines about this job carry the id of the request that submitted it (SPEC §2).
      await runWithCorrelationId(row.correlation_id ?? 'approval-expiry', () =>
        LogContext.run({ ...outer, job_id: row.job_id, approval_id: row.id, step: 'approval_expiry' }, () =>
          this.expireOne(m, row, now),
        ),
      );
    }
    // `full`: the batch was the limit's size, so more may be due (a request decided meanwhile is not counted).
    return { expired: rows.length, full: locked.length === limit };
  }

  private async expireOne(m: EntityManager, row: ExpiredRow, now: Date): Promise<void> {
    const hours = Math.round((new Date(row.expires_at).getTime() - new Date(row.created_at).getTime()) / 3600_000);
    await this.queue.cancelEntry(m, row.job_id, 'failed', EXPIRED_ENTRY_MESSAGE);
    await this.transitions.transition(m, row.job_id, 'cancelled', {
      patch: { errorMessage: `Approval request expired after ${hours} hours` },
      source: 'approval_expiry',
      now,
    });
    await this.events.publish(m, {
      type: 'approval_expired',
      jobId: row.job_id,
      userId: row.user_id,
      orgId: row.org_id,
      data: { job_id: row.job_id, approval_id: row.id, message: EXPIRED_EVENT_MESSAGE },
    });
    log.debug('Approval request expired', { job_id: row.job_id, approval_id: row.id, hours });
  }
}
