import { Injectable } from '@nestjs/common';
import { Transactional } from '../database/transactional';
import { JobRecordsService, JobTransitionService } from '../jobs';
import { getLogger } from '../logging';
import { QueueRepository } from './queue.repository';

const log = getLogger('simpletuner.cloud.queue');
/** Jobs cancelled for waiting too long, per statement. */
const EXPIRE_BATCH = 100;

/** What one pass over the time-bound waits did. */
export interface WaitsSummary {
  /** Scheduled entries whose start came: now pending. */
  released: number;
  /** Jobs cancelled because they were not dispatched within their max_wait_seconds. */
  expired: number;
}

/**
 * The time-bound waits of the queue, run by each queue tick before it claims (so a scheduled job whose time has
 * come is claimed in that same tick): scheduled starts that came, and jobs past their `max_wait_seconds`. Both read
 * partial indexes holding only such entries, so a tick with none of them pays two index probes. Safe on several
 * instances at once: the release is one UPDATE, and a cancelled job's second cancel changes nothing.
 */
@Injectable()
export class QueueWaitsService {
  constructor(
    private readonly repo: QueueRepository,
    private readonly jobs: JobRecordsService,
    private readonly transitions: JobTransitionService,
  ) {}

  async run(now: Date): Promise<WaitsSummary> {
    const released = await this.repo.releaseScheduled(now);
    let expired = 0;
    for (;;) {
      const due = await this.repo.pastWaitDeadline(now, EXPIRE_BATCH);
      if (due.length === 0) break;
      expired += await this.expire(due, now);
      if (due.length < EXPIRE_BATCH) break;
    }
    return { released, expired };
  }

  /** Cancels the jobs (job_status_changed each; the job-ended pipeline ends their entries), in one transaction. */
  @Transactional()
  private async expire(jobIds: string[], now: Date): Promise<number> {
    const jobs = await this.jobs.read(jobIds);
    const results = await this.transitions.transitionMany(
      jobs.map((job) => ({
        jobId: job.jobId,
        to: 'cancelled' as const,
        patch: { errorMessage: `Not started within ${job.maxWaitSeconds} seconds` },
      })),
      { source: 'max_wait', now },
    );
    const changed = results.filter((r) => r.changed).length;
    if (changed > 0) log.info('Cancelled jobs not started within their max_wait_seconds', { jobs: changed });
    return changed;
  }
}
