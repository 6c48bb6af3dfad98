import { Injectable } from '@nestjs/common';
import type { Job } from './job.entity';
import { JobsRepository } from './jobs.repository';

/**
 * What other modules (queue, approvals) may read and change of a job besides its status, which only the
 * transition function changes. Every call joins the caller's transaction.
 */
@Injectable()
export class JobRecordsService {
  constructor(private readonly repo: JobsRepository) {}

  /** Whole rows, in job_id order. */
  read(jobIds: string[]): Promise<Job[]> {
    return this.repo.read(jobIds);
  }

  /**
   * Locks the rows in job_id order (job row first is the lock order of every writer), passing over rows another
   * transaction holds; returns the rows it locked.
   */
  lockAvailable(jobIds: string[]): Promise<Job[]> {
    return this.repo.read(jobIds, { lock: true, skipLocked: true });
  }

  /** The prediction id, when a stale transition (the job already moved on) did not write it. */
  setExternalIdIfMissing(jobId: string, externalId: string): Promise<void> {
    return this.repo.setExternalIdIfMissing(jobId, externalId);
  }

  /** Mirrors the queue's override on the job, which job responses show (not a status change). */
  setPriorityOverride(jobId: string, priority: number | null): Promise<void> {
    return this.repo.setPriorityOverride(jobId, priority);
  }
}
