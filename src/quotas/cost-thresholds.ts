import { Injectable } from '@nestjs/common';
import type { UserLevel } from '../auth';
import { Db, returnedRows } from '../database/transaction-host';
import { EventsService } from '../events';
import type { EndedJob, JobEndedStep } from '../jobs';
import { getLogger } from '../logging';
import { thresholdData } from './quota-check.service';
import { QuotaMeter } from './quota-meter.service';
import { applies, describeQuota, isCostType, THRESHOLD_RATIO, type Submitter } from './quota-rules';
import { QuotasRepository } from './quotas.repository';
import { QuotasService } from './quotas.service';

const log = getLogger('simpletuner.cloud.quotas');

/**
 * A step at the end of the job-ended pipeline, in the transaction that records a finished job's actual cost: when
 * that cost takes a subject past 80 % of a cost quota in the job's window, `quota_threshold` goes out, once per
 * quota, subject and window (the same notice rows as the submit's: whichever records it first sends it).
 */
@Injectable()
export class QuotaCostThresholds implements JobEndedStep {
  constructor(
    private readonly quotas: QuotasService,
    private readonly meter: QuotaMeter,
    private readonly repo: QuotasRepository,
    private readonly events: EventsService,
    private readonly db: Db,
  ) {}

  async onJobsEnded(ended: EndedJob[]): Promise<void> {
    const costed = ended.filter((e) => e.job.costUsd !== null);
    if (costed.length === 0) return;
    const quotas = (await this.quotas.active()).filter((q) => isCostType(q.type));
    if (quotas.length === 0) return;
    for (const { job } of costed) {
      const [owner] = await this.db.tx.query<{ level: UserLevel }[]>(`SELECT level FROM users WHERE id = $1`, [
        job.userId,
      ]);
      if (!owner) continue;
      const who: Submitter = { userId: job.userId, orgId: job.orgId, level: owner.level, provider: job.provider };
      const mine = quotas.filter((q) => applies(q, who));
      if (mine.length === 0) continue;
      // The job's cost counts in the windows it was created in.
      const standings = await this.meter.standings(mine, who, job.createdAt);
      const crossed = standings.filter((s) => s.used >= s.quota.limit * THRESHOLD_RATIO - 1e-9);
      if (crossed.length === 0) continue;
      const part = this.repo.thresholdPart(
        crossed.map((s) => ({ quota_id: s.quota.id, subject_id: s.subject.id, window_start: s.window.start })),
      );
      const recorded = new Set(
        returnedRows<{ quota_id: string }>(await this.db.tx.query(part.sql, part.params)).map((r) => r.quota_id),
      );
      for (const s of crossed.filter((c) => recorded.has(c.quota.id))) {
        log.info(`Quota past ${THRESHOLD_RATIO * 100} % by a job's cost: ${describeQuota(s.quota)}`, {
          job_id: job.jobId,
          quota_id: s.quota.id,
          used: s.used,
        });
        await this.events.publish({
          type: 'quota_threshold',
          jobId: job.jobId,
          userId: job.userId,
          orgId: job.orgId,
          data: thresholdData(s),
        });
      }
    }
  }
}
