import { Inject, Injectable } from '@nestjs/common';
import { LogContext } from '../context';
import { Transactional } from '../database/transactional';
import { EventsService } from '../events';
import { inJobScope, Job, JobRecordsService, JobTransitionService } from '../jobs';
import { getLogger } from '../logging';
import { APPROVAL_QUEUE, type ApprovalQueue } from './approval-ports';
import { ApprovalsRepository, type ExpiredRow } from './approvals.repository';

const log = getLogger('simpletuner.cloud.approvals');

const EXPIRED_ENTRY_MESSAGE = 'Approval request expired (auto-rejected after timeout)';
const EXPIRED_EVENT_MESSAGE = 'Approval request expired and job was auto-rejected';

/**
 * Every pending request past its deadline — all of them, in batches — becomes `expired`, and in the SAME
 * transaction its queue entry `failed`, its job `cancelled` and one `approval_expired` event. A crash or an error
 * anywhere in a batch rolls the whole batch back: no request is expired with a live job.
 */
@Injectable()
export class ApprovalExpiry {
  constructor(
    private readonly repo: ApprovalsRepository,
    private readonly transitions: JobTransitionService,
    private readonly jobs: JobRecordsService,
    @Inject(APPROVAL_QUEUE) private readonly queue: ApprovalQueue,
    private readonly events: EventsService,
  ) {}

  async expireDue(now: Date, batchSize: number): Promise<{ expired: number }> {
    let expired = 0;
    // Requests left for a later tick: their job is held by another transaction, or expiring them failed.
    const skipped: string[] = [];
    for (;;) {
      try {
        const batch = await this.expireBatch(now, batchSize, skipped);
        expired += batch.expired;
        if (!batch.full) break;
      } catch (err) {
        // One bad job must not hold back every other expiry: retry this batch one request per transaction,
        // and leave the failing ones pending (a later tick tries them again).
        log.warning('Approval expiry batch failed; retrying its requests one by one', { error: err });
        const due = await this.repo.due(now, batchSize, skipped);
        for (const { id, job_id } of due) {
          try {
            expired += (await this.expireBatch(now, 1, skipped, id)).expired;
          } catch (one) {
            skipped.push(id);
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
    const { expired } = await this.expireBatch(now, 1, [], id);
    if (expired > 0) log.info('Approval request expired before a decision', { approval_id: id });
    return expired > 0;
  }

  /**
   * One transaction: lock the jobs of up to `limit` due requests (job rows first, the order every job writer uses;
   * a job someone is cancelling right now is passed over, and so are its request for the rest of this run, so
   * instances share the work), expire the requests still pending, then end each job.
   */
  @Transactional()
  private async expireBatch(
    now: Date,
    limit: number,
    skipped: string[],
    onlyId?: string,
  ): Promise<{ expired: number; full: boolean }> {
    const due = await this.repo.due(now, limit, skipped, onlyId);
    if (due.length === 0) return { expired: 0, full: false };
    const locked = await this.jobs.lockAvailable(due.map((d) => d.job_id));
    const lockedIds = new Set(locked.map((j) => j.jobId));
    for (const d of due) if (!lockedIds.has(d.job_id)) skipped.push(d.id);
    const rows = locked.length > 0 ? await this.repo.expire([...lockedIds], now) : [];
    const jobs = new Map(locked.map((j) => [j.jobId, j]));
    const tickId = LogContext.current()?.tick_id;
    for (const row of rows) {
      const job = jobs.get(row.job_id)!;
      // Lines about this job carry the id of the request that submitted it.
      const scope = { step: 'approval_expiry', tickId: typeof tickId === 'string' ? tickId : undefined };
      await inJobScope(job, scope, () => LogContext.run({ approval_id: row.id }, () => this.expireOne(row, job, now)));
    }
    // `full`: the batch was the limit's size, so more may be due (passed-over requests are not asked for again).
    return { expired: rows.length, full: due.length === limit };
  }

  private async expireOne(row: ExpiredRow, job: Job, now: Date): Promise<void> {
    const hours = Math.round((new Date(row.expires_at).getTime() - new Date(row.created_at).getTime()) / 3600_000);
    await this.queue.cancelEntry(row.job_id, 'failed', EXPIRED_ENTRY_MESSAGE);
    await this.transitions.transition(row.job_id, 'cancelled', {
      patch: { errorMessage: `Approval request expired after ${hours} hours` },
      source: 'approval_expiry',
      now,
    });
    await this.events.publish({
      type: 'approval_expired',
      jobId: row.job_id,
      userId: job.userId,
      orgId: job.orgId,
      data: { approval_id: row.id, message: EXPIRED_EVENT_MESSAGE },
    });
    log.debug('Approval request expired', { job_id: row.job_id, approval_id: row.id, hours });
  }
}
