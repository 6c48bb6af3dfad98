import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { Clock } from '../common/clock';
import type { WritePart } from '../database/combined-write';
import { AfterCommit } from '../database/after-commit';
import { QueueStep, type EndedJob, type SubmittedJob } from '../jobs';
import { QueueEntryStatus } from './queue-entry.entity';
import { agedPriority } from './queue-priority';
import { QueueRepository } from './queue.repository';

/**
 * A job's place in the queue from submit to end: the entry a submit writes, approval's unblock or cancel, the
 * release of its slot when the job ends. Each joins the caller's unit of work; a change that frees a slot or adds a
 * pending entry wakes the processing tick once it has committed (never before: the tick would not see it).
 */
@Injectable()
export class QueueEntriesService extends QueueStep {
  private readonly wakeListeners = new Set<() => void>();

  constructor(
    private readonly config: AppConfig,
    private readonly repo: QueueRepository,
    private readonly afterCommit: AfterCommit,
    private readonly clock: Clock,
  ) {
    super();
  }

  /** Called after a pending entry appears or a slot frees, once that change has committed. */
  onWake(fn: () => void): () => void {
    this.wakeListeners.add(fn);
    return () => this.wakeListeners.delete(fn);
  }

  /**
   * The submit's entry: `blocked` while its approval is awaited or its scheduled start has not come (reason
   * `scheduled`: the tick releases it then), else `pending` with aging from the submit.
   */
  enqueue(job: SubmittedJob, held: boolean): WritePart {
    const scheduled = job.startAfter && job.startAfter > job.submittedAt ? job.startAfter : null;
    const waits = held || scheduled !== null;
    const aging = waits
      ? null
      : agedPriority(job.priority, null, job.submittedAt, job.submittedAt, this.config.enterprise.starvationMinutes);
    const part = this.repo.insertPart({
      jobId: job.jobId,
      userId: job.userId,
      orgId: job.orgId,
      provider: job.provider,
      priority: job.priority,
      blockedReason: held ? 'awaiting_approval' : scheduled ? 'scheduled' : null,
      pendingSince: waits ? null : job.submittedAt,
      nextAgingAt: aging?.nextAgingAt ?? null,
      maxAttempts: job.maxAttempts,
      notBefore: scheduled,
      waitDeadline: job.maxWaitSeconds ? new Date(job.submittedAt.getTime() + job.maxWaitSeconds * 1000) : null,
    });
    return waits ? part : { ...part, afterCommit: () => this.notifyWake() };
  }

  /** Approve → pending; aging starts now. A scheduled start still ahead: it waits for it (`scheduled`). */
  async unblock(jobId: string, now: Date = this.clock.now()): Promise<boolean> {
    const entry = await this.repo.find(jobId, true);
    if (!entry || entry.status !== 'blocked') return false;
    if (entry.notBefore && entry.notBefore > now) {
      await this.repo.update(jobId, { blockedReason: 'scheduled', updatedAt: now });
      return true;
    }
    const aged = agedPriority(
      entry.basePriority,
      entry.priorityOverride,
      now,
      now,
      this.config.enterprise.starvationMinutes,
    );
    await this.repo.update(jobId, {
      status: 'pending',
      blockedReason: null,
      pendingSince: now,
      nextAgingAt: aged.nextAgingAt,
      effectivePriority: aged.effective,
      updatedAt: now,
    });
    this.wake();
    return true;
  }

  /** Reject/expiry: the entry ends (frees nothing: a blocked entry holds no slot) with the reason. */
  cancelEntry(
    jobId: string,
    status: 'cancelled' | 'failed',
    reason: string,
    now: Date = this.clock.now(),
  ): Promise<boolean> {
    return this.repo.finish(jobId, status, now, reason);
  }

  /**
   * The ended jobs' entries finish in one statement (each entry's own row lock orders it against a claim or a
   * recorder). A `dispatching` entry is left to its dispatcher, which cancels the prediction if needed and releases
   * the slot when it records.
   */
  async release(ended: EndedJob[]): Promise<void> {
    const rows = ended.map(({ job }) => ({ jobId: job.jobId, status: job.status as QueueEntryStatus }));
    if ((await this.repo.finishEnded(rows, this.clock.now())) > 0) this.wake();
  }

  async positions(jobIds: string[]): Promise<Map<string, number>> {
    return this.repo.positions(jobIds);
  }

  positionColumn(jobIdSql: string): string {
    return this.repo.positionColumn(jobIdSql);
  }

  /** Wakes this instance's processing tick once the current unit of work has committed (a resumed scope). */
  wakeAfterCommit(): void {
    this.wake();
  }

  private wake(): void {
    this.afterCommit.run(() => this.notifyWake());
  }

  private notifyWake(): void {
    if (!this.config.env.SIMPLETUNER_QUEUE_WAKE_ON_RELEASE) return;
    for (const fn of this.wakeListeners) fn();
  }
}
