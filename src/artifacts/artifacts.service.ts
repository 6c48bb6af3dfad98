import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth';
import { ConflictError, NotFoundError } from '../common/errors';
import { JobsService } from '../jobs';
import { getLogger } from '../logging';
import { artifactKey } from './artifact-copy.service';
import { ARTIFACT_NAME } from './artifact-names';
import { ArtifactMissingError, ARTIFACT_STORE, type ArtifactStore, type ByteRange } from './artifact-store';
import { ArtifactsRepository } from './artifacts.repository';
import { artifactView, ArtifactView } from './artifacts.view';
import { parseRange } from './byte-range';
import type { JobArtifact } from './job-artifact.entity';

const log = getLogger('simpletuner.cloud.artifacts');

/** A download: the whole file, a range of it, or 416 (then no body). */
export interface ArtifactDownload {
  artifact: JobArtifact;
  status: 200 | 206 | 416;
  range: ByteRange | null;
  /** Absent for 416 and for HEAD. */
  body?: Readable;
}

const notFound = (jobId: string, name: string) =>
  new NotFoundError(`Job ${jobId} has no artifact ${name}`, 'not_found', { job_id: jobId, name });

/**
 * A completed job's outputs as the API shows them: listed and downloaded with the job's own visibility (JobsService
 * decides it). Their copy rows and deletion are ArtifactRecordsService's, the copying ArtifactCopyService's.
 */
@Injectable()
export class ArtifactsService {
  constructor(
    private readonly repo: ArtifactsRepository,
    private readonly jobs: JobsService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
  ) {}

  /** A visible job's artifacts (404 as the job for anything else). */
  async list(user: AuthenticatedUser, jobId: string): Promise<ArtifactView[]> {
    await this.jobs.findVisible(user, jobId);
    return (await this.repo.forJobs([jobId])).map(artifactView);
  }

  /**
   * A stored artifact of a visible job, whole or the range asked for. 404 for an unknown name (or a job the caller
   * may not see), 409 while it is not stored.
   */
  async open(
    user: AuthenticatedUser,
    jobId: string,
    name: string,
    rangeHeader: string | undefined,
    withBody = true,
  ): Promise<ArtifactDownload> {
    await this.jobs.findVisible(user, jobId);
    const artifact = ARTIFACT_NAME.test(name) ? await this.repo.findByName(jobId, name) : null;
    if (!artifact) throw notFound(jobId, name);
    if (artifact.status !== 'stored' || artifact.size === null) {
      throw new ConflictError(`Artifact ${name} of job ${jobId} is ${artifact.status}, not stored`, {
        job_id: jobId,
        name,
        status: artifact.status,
      });
    }
    const answer = parseRange(rangeHeader, artifact.size);
    if (answer.kind === 'unsatisfiable') return { artifact, status: 416, range: null };
    const range = answer.kind === 'partial' ? answer.range : null;
    const download: ArtifactDownload = { artifact, status: range ? 206 : 200, range };
    if (!withBody) return download;
    try {
      download.body = await this.store.read(artifactKey(artifact), range ?? undefined);
    } catch (err) {
      if (!(err instanceof ArtifactMissingError)) throw err;
      log.error(`The stored file of artifact ${name} of job ${jobId} is missing`, { job_id: jobId });
      throw notFound(jobId, name);
    }
    return download;
  }
}
