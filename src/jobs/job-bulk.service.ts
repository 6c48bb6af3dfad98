import { Inject, Injectable } from '@nestjs/common';
import { AccessPolicy, type AuthenticatedUser } from '../auth';
import { AUDIT_RECORDER, type AuditEntry, type AuditRecorder } from '../common/audit';
import { bulkError } from '../common/bulk';
import { InvalidJobStateError } from '../common/errors';
import { ACTIVE_STATUSES, isTerminal } from '../common/job-status';
import { Clock } from '../common/clock';
import { Transactional } from '../database/transactional';
import { getLogger } from '../logging';
import { JobRetryService } from './job-retry.service';
import { JobTransitionService } from './job-transition.service';
import type { Job } from './job.entity';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';
import { ArtifactsStep } from './pipeline/steps';

const log = getLogger('simpletuner.cloud.jobs');

export const BULK_JOB_ACTIONS = ['cancel', 'delete', 'retry'] as const;
export type BulkJobAction = (typeof BULK_JOB_ACTIONS)[number];

/** One id's outcome in a bulk action. */
export interface BulkItem {
  job_id: string;
  ok: boolean;
  status?: string;
  new_job_id?: string;
  error?: { code: string; message: string };
}

/** Ids per transaction: a failure rolls back at most this many, and those are then done one by one. */
const CHUNK = 250;

/** One id's failure (see bulkError). */
function asFailure(jobId: string, err: unknown): BulkItem {
  const { status, ...error } = bulkError(err, (e) =>
    log.error('Bulk action failed on one job', { job_id: jobId, error: e }),
  );
  return { job_id: jobId, ok: false, ...(status ? { status } : {}), error };
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/**
 * Cancel, delete or retry many jobs, each under its single route's rules (JobsService, JobRetryService), every id
 * answered on its own. Cancels of jobs not yet at the provider and deletes are done set-based, a chunk per
 * transaction (one lock, one UPDATE or DELETE, one insert of events and of audit rows); if a chunk fails as a
 * whole, its ids are done one by one, so one bad id never rolls back another. Cancels that must reach the provider
 * first, and retries (each a submit), go one by one.
 */
@Injectable()
export class JobBulkService {
  constructor(
    private readonly jobs: JobsService,
    private readonly retries: JobRetryService,
    private readonly repo: JobsRepository,
    private readonly transitions: JobTransitionService,
    private readonly artifacts: ArtifactsStep,
    private readonly access: AccessPolicy,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
    private readonly clock: Clock,
  ) {}

  async run(caller: AuthenticatedUser, action: BulkJobAction, jobIds: string[]): Promise<BulkItem[]> {
    const done = new Map<string, BulkItem>();
    for (const chunk of chunks(jobIds, CHUNK)) {
      const items =
        action === 'retry'
          ? await this.each(chunk, (id) => this.retryOne(caller, id))
          : await this.chunk(caller, action, chunk);
      for (const item of items) done.set(item.job_id, item);
    }
    return jobIds.map((id) => done.get(id)!);
  }

  /** The chunk's jobs that the caller may act on go set-based; the others are answered as their single route would. */
  private async chunk(caller: AuthenticatedUser, action: 'cancel' | 'delete', ids: string[]): Promise<BulkItem[]> {
    const found = new Map((await this.repo.read(ids)).map((j) => [j.jobId, j]));
    const items: BulkItem[] = [];
    const batch: Job[] = [];
    const oneByOne: string[] = [];
    for (const id of ids) {
      const job = found.get(id);
      // Not visible, not allowed, or in the wrong state: the single route says which, without changing anything.
      const refused = !job || !this.access.canAct(caller, job) || isTerminal(job.status) === (action === 'cancel');
      if (refused || (action === 'cancel' && job.externalId)) oneByOne.push(id);
      else batch.push(job);
    }
    if (batch.length > 0) {
      try {
        items.push(
          ...(action === 'cancel' ? await this.cancelMany(caller, batch) : await this.deleteMany(caller, batch)),
        );
      } catch (err) {
        log.warning('Bulk chunk failed; doing its jobs one by one', { action, jobs: batch.length, error: err });
        oneByOne.push(...batch.map((j) => j.jobId));
      }
    }
    const single = (id: string) => (action === 'cancel' ? this.cancelOne(caller, id) : this.deleteOne(caller, id));
    items.push(...(await this.each(oneByOne, single)));
    return items;
  }

  private async each(ids: string[], one: (id: string) => Promise<BulkItem>): Promise<BulkItem[]> {
    const items: BulkItem[] = [];
    for (const id of ids) items.push(await one(id).catch((err: unknown) => asFailure(id, err)));
    return items;
  }

  private async cancelOne(caller: AuthenticatedUser, id: string): Promise<BulkItem> {
    const view = await this.jobs.cancel(caller, id);
    await this.audit.record(this.entry(caller, 'job.cancel', view.job_id, view.org_id, view.status));
    return { job_id: id, ok: true, status: view.status };
  }

  private async deleteOne(caller: AuthenticatedUser, id: string): Promise<BulkItem> {
    const job = await this.jobs.findVisible(caller, id);
    await this.jobs.remove(caller, id);
    await this.audit.record(this.entry(caller, 'job.delete', id, job.orgId, null, job.status));
    return { job_id: id, ok: true };
  }

  private async retryOne(caller: AuthenticatedUser, id: string): Promise<BulkItem> {
    const { body } = await this.retries.retry(caller, id, undefined);
    return { job_id: id, ok: true, status: body.status, new_job_id: body.job_id };
  }

  /** Jobs not yet at the provider, cancelled as the single route does (the dispatcher honours cancel_requested_at). */
  @Transactional()
  private async cancelMany(caller: AuthenticatedUser, jobs: Job[]): Promise<BulkItem[]> {
    const now = this.clock.now();
    const requests = jobs.map((j) => ({ jobId: j.jobId, to: 'cancelled' as const, patch: { cancelRequestedAt: now } }));
    const results = await this.transitions.transitionMany(requests, { source: 'cancel', now });
    const entries: AuditEntry[] = [];
    const items = results.map(({ job, changed, previous }): BulkItem => {
      if (changed) entries.push(this.entry(caller, 'job.cancel', job.jobId, job.orgId, job.status, previous));
      // It finished on its own meanwhile: as the single route, report the state it ended in.
      if (!changed && previous !== 'cancelled') {
        return asFailure(job.jobId, new InvalidJobStateError(job.jobId, job.status, [...ACTIVE_STATUSES]));
      }
      return { job_id: job.jobId, ok: true, status: job.status };
    });
    await this.audit.recordMany(entries);
    return items;
  }

  /** Finished jobs deleted in one statement; their stored outputs after the commit (as the single route). */
  private async deleteMany(caller: AuthenticatedUser, jobs: Job[]): Promise<BulkItem[]> {
    const deleted = new Set(await this.deleteRows(caller, jobs));
    if (deleted.size > 0) await this.artifacts.jobsDeleted([...deleted]);
    // One gone meanwhile is answered as its single route would.
    const gone = jobs.filter((j) => !deleted.has(j.jobId)).map((j) => j.jobId);
    const items = [...deleted].map((id): BulkItem => ({ job_id: id, ok: true }));
    return [...items, ...(await this.each(gone, (id) => this.deleteOne(caller, id)))];
  }

  @Transactional()
  private async deleteRows(caller: AuthenticatedUser, jobs: Job[]): Promise<string[]> {
    const deleted = await this.repo.deleteFinishedMany(jobs.map((j) => j.jobId));
    const byId = new Map(jobs.map((j) => [j.jobId, j]));
    await this.audit.recordMany(
      deleted.map((id) => this.entry(caller, 'job.delete', id, byId.get(id)!.orgId, null, byId.get(id)!.status)),
    );
    return deleted;
  }

  private entry(
    caller: AuthenticatedUser,
    action: string,
    jobId: string,
    orgId: string,
    status: string | null,
    before?: string,
  ): AuditEntry {
    return {
      actor: caller,
      action,
      targetType: 'job',
      targetId: jobId,
      orgId,
      ...(before ? { before: { status: before } } : {}),
      after: status ? { status } : null,
    };
  }
}
