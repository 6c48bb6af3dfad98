import { Injectable } from '@nestjs/common';
import type { JobProgress, ProgressEventMark } from '../common/job-progress';
import { Db } from '../database/transaction-host';

/** A job's stored progress and its last job_progress event. */
export interface StoredProgress {
  jobId: string;
  progress: Required<JobProgress> | null;
  event: ProgressEventMark | null;
}

/** The `progress` and `progress_event` columns of `jobs`: written by the log append, read by the job views. */
@Injectable()
export class JobProgressRepository {
  constructor(private readonly db: Db) {}

  /** The jobs' stored progress (jobs that are gone are absent). */
  async read(jobIds: string[]): Promise<Map<string, StoredProgress>> {
    const rows = await this.db.tx.query<Record<string, unknown>[]>(
      `SELECT job_id, progress, progress_event FROM jobs WHERE job_id = ANY($1::uuid[])`,
      [jobIds],
    );
    return new Map(
      rows.map((r) => [
        r.job_id as string,
        {
          jobId: r.job_id as string,
          progress: (r.progress as Required<JobProgress> | null) ?? null,
          event: (r.progress_event as ProgressEventMark | null) ?? null,
        },
      ]),
    );
  }

  /** One statement for all the jobs. */
  async save(rows: StoredProgress[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.tx.query(
      `UPDATE jobs j SET progress = v.progress, progress_event = v.progress_event
         FROM jsonb_to_recordset($1::jsonb) AS v(job_id uuid, progress jsonb, progress_event jsonb)
        WHERE j.job_id = v.job_id`,
      [JSON.stringify(rows.map((r) => ({ job_id: r.jobId, progress: r.progress, progress_event: r.event })))],
    );
  }
}
