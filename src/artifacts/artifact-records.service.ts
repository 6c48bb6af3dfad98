import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AfterCommit } from '../database/after-commit';
import { EventsService, type NewEvent } from '../events';
import { ArtifactsStep, type EndedJob } from '../jobs';
import { getLogger } from '../logging';
import { ArtifactCopyService } from './artifact-copy.service';
import { ArtifactMetrics } from './artifact-metrics';
import { artifactNames } from './artifact-names';
import { ArtifactSources, UNTRUSTED_SOURCE } from './artifact-sources';
import { ARTIFACT_STORE, type ArtifactStore } from './artifact-store';
import { ArtifactsRepository, NewArtifact } from './artifacts.repository';

const log = getLogger('simpletuner.cloud.artifacts');

/**
 * The artifacts' steps of the job pipelines: a completed job's output URLs become copy rows in the transaction that
 * completed it, and a deleted job's stored files go with it.
 */
@Injectable()
export class ArtifactRecordsService extends ArtifactsStep {
  constructor(
    private readonly repo: ArtifactsRepository,
    private readonly sources: ArtifactSources,
    private readonly copies: ArtifactCopyService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    private readonly events: EventsService,
    private readonly metrics: ArtifactMetrics,
    private readonly afterCommit: AfterCommit,
  ) {
    super();
  }

  viewsColumn(jobIdSql: string): string {
    return this.repo.viewsColumn(jobIdSql);
  }

  /**
   * Step of the job-ended pipeline, in the transaction that completed the jobs: one copy row per output URL, in one
   * statement. An output on an untrusted host is recorded `failed` at once and never fetched.
   */
  async record(ended: EndedJob[]): Promise<void> {
    const rows: NewArtifact[] = [];
    for (const { job } of ended) {
      if (job.status !== 'completed' || !job.outputUrls?.length) continue;
      const names = artifactNames(job.outputUrls);
      job.outputUrls.forEach((url, i) => {
        const trusted = this.sources.isTrusted(url, job.provider);
        rows.push({
          artifactId: randomUUID(),
          jobId: job.jobId,
          userId: job.userId,
          orgId: job.orgId,
          provider: job.provider,
          correlationId: job.correlationId,
          name: names[i],
          position: i,
          sourceUrl: url,
          status: trusted ? 'pending' : 'failed',
          error: trusted ? null : UNTRUSTED_SOURCE,
        });
        if (!trusted) {
          log.warning(`Output ${names[i]} of job ${job.jobId} is not on a trusted host; it is not copied`, {
            job_id: job.jobId,
            host: hostOf(url),
          });
        }
      });
    }
    if (rows.length === 0) return;
    await this.repo.insertMany(rows);
    const untrusted = rows.filter((r) => r.status === 'failed');
    await this.events.publishMany(untrusted.map(failedEvent));
    if (untrusted.length > 0) this.afterCommit.run(() => untrusted.forEach(() => this.metrics.copied('failed')));
  }

  /** Deleted jobs' stored files and objects (their rows went with the jobs); their running copies stop first. */
  async jobsDeleted(jobIds: string[]): Promise<void> {
    await this.copies.stopCopiesOf(jobIds);
    for (const jobId of jobIds) {
      try {
        await this.store.deleteUnder(`${jobId}/`);
      } catch (err) {
        log.error(`Could not delete the stored outputs of deleted job ${jobId}`, { job_id: jobId, error: err });
      }
    }
  }
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

function failedEvent(r: NewArtifact): NewEvent {
  return {
    type: 'artifact_failed',
    jobId: r.jobId,
    userId: r.userId,
    orgId: r.orgId,
    data: { name: r.name, error: r.error ?? UNTRUSTED_SOURCE, attempts: 0 },
  };
}
