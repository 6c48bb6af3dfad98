import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { Clock } from '../common/clock';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { MetricsService } from '../metrics';
import { JobsRepository } from './jobs.repository';
import { ArtifactsStep, UploadsStep } from './pipeline/steps';

const log = getLogger('simpletuner.cloud.jobs');
/** Jobs deleted per statement: each is a short transaction of its own, so `jobs` is never locked for long. */
const RETENTION_BATCH = 1000;

/** What one retention run did. */
export interface RetentionSummary {
  /** SIMPLETUNER_JOB_RETENTION_DAYS (0: keep forever, nothing deleted) */
  days: number;
  cutoff: string | null;
  deleted: number;
  batches: number;
  /** Dataset uploads of the deleted jobs that no other job uses and that were made before the cutoff. */
  uploads_deleted: number;
}

/**
 * Deletes finished jobs past SIMPLETUNER_JOB_RETENTION_DAYS: terminal jobs that completed before the cutoff, in
 * batches of at most 1,000, with everything stored for them (rows by cascade, the artifact store's files through
 * the artifacts module, and the dataset uploads they used once no remaining job uses them and they are older than
 * the cutoff too, through the uploads module). Never an active job. Safe on several instances at once (SKIP LOCKED), though the daily
 * task runs on one.
 */
@Injectable()
export class JobRetentionService {
  private readonly deletedTotal: Counter;

  constructor(
    private readonly config: AppConfig,
    private readonly repo: JobsRepository,
    private readonly artifacts: ArtifactsStep,
    private readonly uploads: UploadsStep,
    private readonly clock: Clock,
    metrics: MetricsService,
  ) {
    this.deletedTotal = metrics.counter({
      name: 'simpletuner_jobs_deleted_total',
      help: 'Finished jobs deleted by retention (SIMPLETUNER_JOB_RETENTION_DAYS)',
    });
  }

  async purgeExpired(now: Date = this.clock.now()): Promise<RetentionSummary> {
    const days = this.config.env.SIMPLETUNER_JOB_RETENTION_DAYS;
    if (days === 0) return { days, cutoff: null, deleted: 0, batches: 0, uploads_deleted: 0 };
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    let deleted = 0;
    let batches = 0;
    let uploadsDeleted = 0;
    for (;;) {
      const gone = await this.repo.deleteFinishedBefore(cutoff, RETENTION_BATCH);
      if (gone.length === 0) break;
      batches++;
      deleted += gone.length;
      this.deletedTotal.inc(gone.length);
      // Their stored outputs (the rows went with the jobs): only a job the provider gave outputs can have any.
      const withOutputs = gone.filter((j) => j.hadOutputs).map((j) => j.jobId);
      if (withOutputs.length > 0) await this.artifacts.jobsDeleted(withOutputs);
      uploadsDeleted += await this.removeUnusedUploads(gone, cutoff);
      if (gone.length < RETENTION_BATCH) break;
    }
    log.info(`Deleted ${deleted} jobs older than ${days} days`, {
      deleted,
      days,
      cutoff: cutoff.toISOString(),
      uploads_deleted: uploadsDeleted,
    });
    return { days, cutoff: cutoff.toISOString(), deleted, batches, uploads_deleted: uploadsDeleted };
  }

  private async removeUnusedUploads(gone: { uploadId: string | null }[], cutoff: Date): Promise<number> {
    const used = [...new Set(gone.flatMap((j) => (j.uploadId ? [j.uploadId] : [])))];
    if (used.length === 0) return 0;
    const stillUsed = await this.repo.uploadsInUse(used);
    const unused = used.filter((id) => !stillUsed.has(id));
    return unused.length > 0 ? this.uploads.removeUnused(unused, cutoff) : 0;
  }
}
