import { createHash } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config';
import { Clock } from '../common/clock';
import { LogContext, runWithCorrelationId } from '../context';
import { Transactional } from '../database/transactional';
import { EventsService } from '../events';
import { backoffDelay } from '../http';
import { getLogger } from '../logging';
import { ArtifactMetrics } from './artifact-metrics';
import { ArtifactSources, CopyError } from './artifact-sources';
import { ARTIFACT_STORE, type ArtifactStore } from './artifact-store';
import { ArtifactsRepository, CopiedBytes } from './artifacts.repository';
import type { JobArtifact } from './job-artifact.entity';

const log = getLogger('simpletuner.cloud.artifacts');

/** A copy's lease, renewed while it runs: a holder that stops (a crash) frees its rows within this. */
const LEASE_SECONDS = 60;
const RENEW_MS = 15_000;
/** Retry n waits 10 s · 2^(n-1), ±25%, at most an hour. */
const RETRY = { baseDelayMs: 10_000, maxDelayMs: 3_600_000, jitter: 'spread' as const };

/** Why a running copy was stopped. */
const STOPPING = 'stopping';
const JOB_DELETED = 'job deleted';
const CLAIM_LOST = 'claim lost';

export const artifactKey = (a: Pick<JobArtifact, 'jobId' | 'artifactId'>) => `${a.jobId}/${a.artifactId}`;

export interface CopyTickSummary {
  /** Copies found abandoned (their holder stopped) and put back to pending. */
  requeued: number;
  started: number;
  /** Copies running on this instance after the tick. */
  running: number;
}

interface RunningCopy {
  jobId: string;
  controller: AbortController;
  done: Promise<void>;
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 500) || 'copy failed';

/**
 * Works the copy queue: claims due rows (single-leader tick), streams each output from its source into the store
 * while hashing it, and records the outcome. Copies run beside the ticks, up to SIMPLETUNER_ARTIFACT_COPY_CONCURRENCY
 * at once per instance, so a long copy never holds back the next tick's claims.
 */
@Injectable()
export class ArtifactCopyService implements OnModuleDestroy {
  private readonly running = new Map<string, RunningCopy>();
  private stopping = false;
  /** Ticks of this process one after another: a tick's claim and its start of the copies are one step. */
  private ticks: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: AppConfig,
    private readonly repo: ArtifactsRepository,
    private readonly sources: ArtifactSources,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    private readonly events: EventsService,
    private readonly metrics: ArtifactMetrics,
    private readonly clock: Clock,
  ) {}

  private get maxAttempts(): number {
    return this.config.env.SIMPLETUNER_ARTIFACT_COPY_ATTEMPTS;
  }

  /**
   * One tick: abandoned copies go back to pending, then rows due at `now` are claimed for the free copy slots and
   * their copies started. Returns without waiting for them (whenIdle() does).
   */
  copyDue(now: Date, tickId?: string): Promise<CopyTickSummary> {
    const tick = this.ticks.then(() => this.claimAndStart(now, tickId));
    this.ticks = tick.catch(() => undefined);
    return tick;
  }

  /** Settles when no copy runs on this instance. */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()].map((c) => c.done));
  }

  /** Stops this instance's copies of these jobs (they are being deleted) and waits for them. */
  async stopCopiesOf(jobIds: string[]): Promise<void> {
    const ids = new Set(jobIds);
    const stopped = [...this.running.values()].filter((c) => ids.has(c.jobId));
    for (const c of stopped) c.controller.abort(JOB_DELETED);
    await Promise.allSettled(stopped.map((c) => c.done));
  }

  /** Shutdown: running copies stop and go back to pending (their attempt not counted); no tick claims more. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    for (const c of this.running.values()) c.controller.abort(STOPPING);
    await this.whenIdle();
  }

  private async claimAndStart(now: Date, tickId: string | undefined): Promise<CopyTickSummary> {
    if (this.stopping) return { requeued: 0, started: 0, running: this.running.size };
    // Only this process opens the embedded database (its lock file): a copying row it does not run is abandoned.
    const requeued = await this.repo.requeueAbandoned(now, [...this.running.keys()], this.config.embeddedDatabase);
    if (requeued > 0) log.info(`Resuming ${requeued} output copies whose holder stopped`, { requeued });
    const free = this.config.env.SIMPLETUNER_ARTIFACT_COPY_CONCURRENCY - this.running.size;
    const claimed = free > 0 && !this.stopping ? await this.repo.claimDue(now, free, LEASE_SECONDS) : [];
    for (const row of claimed) this.start(row, tickId);
    return { requeued, started: claimed.length, running: this.running.size };
  }

  private start(row: JobArtifact, tickId: string | undefined): void {
    const controller = new AbortController();
    const fields = {
      job_id: row.jobId,
      artifact: row.name,
      attempt: row.attempts,
      ...(tickId ? { tick_id: tickId } : {}),
    };
    const done = runWithCorrelationId(row.correlationId, () => LogContext.run(fields, () => this.run(row, controller)))
      .catch((err: unknown) => log.error('Output copy could not record its outcome', { error: err }))
      .finally(() => this.running.delete(row.artifactId));
    this.running.set(row.artifactId, { jobId: row.jobId, controller, done });
  }

  private async run(row: JobArtifact, controller: AbortController): Promise<void> {
    if (row.attempts > this.maxAttempts) {
      // Only a copy cut off by a crash each time gets here: count it as the failure it is.
      return this.failed(row, `copy interrupted ${row.attempts - 1} times`);
    }
    const renewal = setInterval(() => void this.renew(row, controller), RENEW_MS);
    try {
      const copied = await this.copy(row, controller.signal);
      await this.stored(row, copied);
    } catch (err) {
      await this.unfinished(row, err, controller.signal);
    } finally {
      clearInterval(renewal);
    }
  }

  private async renew(row: JobArtifact, controller: AbortController): Promise<void> {
    try {
      if (!(await this.repo.renew(row, LEASE_SECONDS))) controller.abort(CLAIM_LOST);
    } catch (err) {
      log.warning('Could not renew an output copy lease', { error: err });
    }
  }

  /** Streams the source into the store, hashing and counting on the way: the file is never held in memory. */
  private async copy(row: JobArtifact, signal: AbortSignal): Promise<CopiedBytes> {
    const source = await this.sources.open(row.sourceUrl, row.provider, signal);
    const hash = createHash('sha256');
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    // A source that fails destroys `counted`, which fails the store's write; a store that stops destroys the source.
    pipeline(source.body, counted, () => undefined);
    const contentType = source.contentType ?? 'application/octet-stream';
    await this.store.put(artifactKey(row), counted, { contentType, signal, size: source.size });
    if (source.size !== null && size !== source.size) {
      await this.store.delete(artifactKey(row));
      throw new CopyError(`the source sent ${size} of ${source.size} bytes`, false);
    }
    return { size, sha256: hash.digest('hex'), contentType };
  }

  private async stored(row: JobArtifact, copied: CopiedBytes): Promise<void> {
    if (await this.recordStored(row, copied)) {
      this.metrics.copied('stored', copied.size);
      log.info(`Output ${row.name} stored (${copied.size} bytes)`, { size: copied.size, sha256: copied.sha256 });
    } else if (!(await this.repo.exists(row.artifactId))) {
      // The job was deleted while its output was being copied: what was written goes too.
      await this.store.delete(artifactKey(row));
    }
    // Else another holder took the row over after our lease passed; it writes the same object.
  }

  private async unfinished(row: JobArtifact, err: unknown, signal: AbortSignal): Promise<void> {
    if (signal.aborted) {
      if (signal.reason === STOPPING && (await this.repo.release(row))) {
        log.info(`Output copy of ${row.name} stopped by shutdown; it starts again with the next tick`);
      }
      return; // JOB_DELETED: the row went with the job; CLAIM_LOST: another holder has it.
    }
    const message = messageOf(err);
    if ((err instanceof CopyError && err.permanent) || row.attempts >= this.maxAttempts) {
      return this.failed(row, message);
    }
    const at = new Date(this.clock.now().getTime() + backoffDelay(row.attempts, RETRY));
    if (await this.repo.retryLater(row, message, at)) {
      this.metrics.copied('retried');
      log.warning(`Output copy of ${row.name} failed (${message}); retrying at ${at.toISOString()}`, {
        error_message: message,
        retry_at: at.toISOString(),
      });
    }
  }

  private async failed(row: JobArtifact, message: string): Promise<void> {
    if (!(await this.recordFailed(row, message))) return;
    this.metrics.copied('failed');
    log.error(`Output ${row.name} could not be copied: ${message}`, { error_message: message, attempts: row.attempts });
  }

  @Transactional()
  private async recordStored(row: JobArtifact, copied: CopiedBytes): Promise<boolean> {
    const stored = await this.repo.markStored(row, copied);
    if (!stored) return false;
    await this.events.publish({
      type: 'artifact_stored',
      jobId: row.jobId,
      userId: row.userId,
      orgId: row.orgId,
      data: { name: row.name, size: copied.size, sha256: copied.sha256, content_type: copied.contentType },
    });
    return true;
  }

  @Transactional()
  private async recordFailed(row: JobArtifact, message: string): Promise<boolean> {
    const failed = await this.repo.markFailed(row, message);
    if (!failed) return false;
    await this.events.publish({
      type: 'artifact_failed',
      jobId: row.jobId,
      userId: row.userId,
      orgId: row.orgId,
      data: { name: row.name, error: message, attempts: row.attempts },
    });
    return true;
  }
}
