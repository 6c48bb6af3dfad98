import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { atLeast } from '../auth/user.entity';
import { AppConfig } from '../config';
import { ConflictError, JobNotFoundError, PermissionDeniedError } from '../common/errors';
import { getLogger } from '../logging';
import { QueueEntry, QueueEntryStatus, WaitReason } from './queue-entry.entity';
import { QueueLimitsService } from './queue-limits.service';
import { agedPriority } from './queue-priority';
import { QueueRepository } from './queue.repository';
import type { QueueEntryView } from './queue.view';

const log = getLogger('simpletuner.cloud.queue');

/** Dispatch rate for ETAs is measured over this window. */
const RATE_WINDOW_MS = 3600_000;

export interface PositionView {
  job_id: string;
  status: QueueEntryStatus;
  position: number | null;
  effective_priority: number;
  estimated_wait_seconds: number | null;
  blocked_reason: WaitReason | null;
}

export function entryView(e: QueueEntry, position: number | null = null): QueueEntryView {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    job_id: e.jobId,
    user_id: e.userId,
    org_id: e.orgId,
    provider: e.provider,
    status: e.status,
    priority: e.basePriority,
    priority_override: e.priorityOverride,
    effective_priority: e.effectivePriority,
    position,
    blocked_reason: e.blockedReason as WaitReason | null,
    attempt: e.attempt,
    max_attempts: e.maxAttempts,
    last_error: e.lastError,
    queued_at: iso(e.queuedAt),
    not_before: iso(e.notBefore),
    dispatched_at: iso(e.dispatchedAt),
    finished_at: iso(e.finishedAt),
  };
}

/** The read side of the queue and the priority override (routes of SPEC §6). */
@Injectable()
export class QueueQueryService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly repo: QueueRepository,
    private readonly limits: QueueLimitsService,
  ) {}

  /** Own entries; a lead sees its org's, an admin all. */
  async list(caller: AuthenticatedUser, q: { status?: QueueEntryStatus; limit?: number; offset?: number }) {
    const scope =
      caller.level === 'admin' ? {} : caller.level === 'lead' ? { orgId: caller.orgId } : { userId: caller.id };
    const m = this.db.manager;
    const { entries, total } = await this.repo.list(m, scope, {
      status: q.status,
      limit: q.limit ?? 50,
      offset: q.offset ?? 0,
    });
    const positions = await this.repo.positions(
      m,
      entries.filter((e) => e.status === 'pending').map((e) => e.jobId),
    );
    return { entries: entries.map((e) => entryView(e, positions.get(e.jobId) ?? null)), total };
  }

  async stats(now: Date = new Date()) {
    const m = this.db.manager;
    const counts = await this.repo.countsByStatus(m);
    const recent = await this.repo.recentDispatches(m, new Date(now.getTime() - 24 * 3600_000));
    const by_status: Record<string, number> = {};
    for (const s of ['pending', 'blocked', 'dispatching', 'running', 'completed', 'failed', 'cancelled'])
      by_status[s] = counts[s] ?? 0;
    return {
      by_status,
      depth: by_status.pending,
      blocked: by_status.blocked,
      running: by_status.running + by_status.dispatching,
      avg_wait_seconds: recent.avgWaitSeconds === null ? null : Math.round(recent.avgWaitSeconds * 10) / 10,
      dispatched_last_24h: recent.count,
      limits: await this.limits.view(m),
    };
  }

  /** Where a job stands and why it waits (SPEC §6). */
  async position(caller: AuthenticatedUser, jobId: string, now: Date = new Date()): Promise<PositionView> {
    const m = this.db.manager;
    const entry = await this.visibleEntry(m, caller, jobId);
    const position = entry.status === 'pending' ? ((await this.repo.positions(m, [jobId])).get(jobId) ?? null) : null;
    const reason = await this.waitReason(m, entry, now);
    return {
      job_id: jobId,
      status: entry.status,
      position,
      effective_priority: entry.effectivePriority,
      estimated_wait_seconds: position === null ? null : await this.estimateWait(m, entry, position, now),
      blocked_reason: reason,
    };
  }

  /** Lead (own org) or admin sets or clears the override; the stored effective priority follows at once. */
  async setPriority(
    caller: AuthenticatedUser,
    jobId: string,
    priority: number | null,
    now: Date = new Date(),
  ): Promise<PositionView> {
    await this.db.transaction(async (m) => {
      await this.repo.lockJobs(m, [jobId]);
      const entry = await this.repo.find(m, jobId, true);
      if (!entry || !this.canSee(caller, entry)) throw new JobNotFoundError(jobId);
      if (!atLeast(caller.level, 'lead'))
        throw new PermissionDeniedError('Only a lead or an admin can set a job priority');
      if (entry.status !== 'pending' && entry.status !== 'blocked') {
        throw new ConflictError(`Job ${jobId} is no longer waiting in the queue (${entry.status})`, {
          job_id: jobId,
          status: entry.status,
        });
      }
      const aged = agedPriority(
        entry.basePriority,
        priority,
        entry.pendingSince,
        now,
        this.config.enterprise.starvationMinutes,
      );
      await this.repo.update(m, jobId, {
        priorityOverride: priority,
        effectivePriority: aged.effective,
        nextAgingAt: aged.nextAgingAt,
        updatedAt: now,
      });
      await this.repo.setJobPriorityOverride(m, jobId, priority);
    });
    log.info('Queue priority override set', { job_id: jobId, priority_override: priority, set_by: caller.username });
    return this.position(caller, jobId, now);
  }

  private canSee(caller: AuthenticatedUser, e: QueueEntry): boolean {
    if (caller.level === 'admin') return true;
    if (e.userId === caller.id) return true;
    return caller.level === 'lead' && e.orgId === caller.orgId;
  }

  private async visibleEntry(m: EntityManager, caller: AuthenticatedUser, jobId: string): Promise<QueueEntry> {
    const entry = await this.repo.find(m, jobId);
    if (!entry || !this.canSee(caller, entry)) throw new JobNotFoundError(jobId);
    return entry;
  }

  private async waitReason(m: EntityManager, e: QueueEntry, now: Date): Promise<WaitReason | null> {
    if (e.status === 'blocked') return (e.blockedReason as WaitReason | null) ?? 'awaiting_approval';
    if (e.status !== 'pending') return null;
    if (e.notBefore && e.notBefore.getTime() > now.getTime()) return 'backoff';
    const limits = await this.limits.current(m);
    const used = await this.repo.slotsFor(m, e.userId, e.orgId);
    if (used.user >= limits.userMaxConcurrent) return 'user_limit';
    if (used.org >= limits.orgMaxConcurrent) return 'org_limit';
    if (used.total >= limits.maxConcurrent) return 'global_limit';
    return null;
  }

  /** From measured waits: position ÷ the dispatch rate of the last hour, and never before a backoff ends. */
  private async estimateWait(m: EntityManager, e: QueueEntry, position: number, now: Date): Promise<number | null> {
    const recent = await this.repo.recentDispatches(m, new Date(now.getTime() - RATE_WINDOW_MS));
    const backoff = e.notBefore ? Math.max(0, (e.notBefore.getTime() - now.getTime()) / 1000) : 0;
    if (recent.count === 0) return backoff > 0 ? Math.ceil(backoff) : null;
    const perSecond = recent.count / (RATE_WINDOW_MS / 1000);
    return Math.ceil(Math.max(backoff, position / perSecond));
  }
}
