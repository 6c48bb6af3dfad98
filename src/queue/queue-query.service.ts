import { Clock } from '../common/clock';
import { Inject, Injectable } from '@nestjs/common';
import { AUDIT_RECORDER, AuditRecorder } from '../common/audit';
import { Transactional } from '../database/transactional';
import { AccessPolicy, atLeast, AuthenticatedUser } from '../auth';
import { AppConfig } from '../config';
import { ConflictError, JobNotFoundError, PermissionDeniedError } from '../common/errors';
import { JobRecordsService, JobTransitionService } from '../jobs';
import { getLogger } from '../logging';
import { QueueEntry, QueueEntryStatus, WaitReason } from './queue-entry.entity';
import { QueueLimitsService } from './queue-limits.service';
import { DispatchPausesRepository } from './dispatch-pauses.repository';
import { agedPriority } from './queue-priority';
import { QueueRepository } from './queue.repository';
import { DispatchGate } from './dispatch-gate';
import { Db } from '../database/transaction-host';
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

function entryView(e: QueueEntry, position: number | null = null): QueueEntryView {
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

/** The read side of the queue and the priority override (the /api/queue routes). */
@Injectable()
export class QueueQueryService {
  constructor(
    private readonly config: AppConfig,
    private readonly repo: QueueRepository,
    private readonly limits: QueueLimitsService,
    private readonly pauses: DispatchPausesRepository,
    private readonly transitions: JobTransitionService,
    private readonly jobs: JobRecordsService,
    private readonly access: AccessPolicy,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
    private readonly clock: Clock,
    private readonly gate: DispatchGate,
    private readonly db: Db,
  ) {}

  /** Own entries; a lead sees its org's, an admin all. */
  async list(caller: AuthenticatedUser, q: { status?: QueueEntryStatus; limit?: number; offset?: number }) {
    const scope = this.access.scope(caller);
    const { entries, total } = await this.repo.list(scope, {
      status: q.status,
      limit: q.limit ?? 50,
      offset: q.offset ?? 0,
    });
    const positions = await this.repo.positions(entries.filter((e) => e.status === 'pending').map((e) => e.jobId));
    return { entries: entries.map((e) => entryView(e, positions.get(e.jobId) ?? null)), total };
  }

  async stats(now: Date = this.clock.now()) {
    const counts = await this.repo.countsByStatus();
    const recent = await this.repo.recentDispatches(new Date(now.getTime() - 24 * 3600_000));
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
      limits: await this.limits.view(),
    };
  }

  /** Where a job stands and why it waits. */
  async position(caller: AuthenticatedUser, jobId: string, now: Date = this.clock.now()): Promise<PositionView> {
    const entry = await this.visibleEntry(caller, jobId);
    const position = entry.status === 'pending' ? ((await this.repo.positions([jobId])).get(jobId) ?? null) : null;
    const reason = await this.waitReason(entry, now);
    return {
      job_id: jobId,
      status: entry.status,
      position,
      effective_priority: entry.effectivePriority,
      // A paused scope starts nothing until someone resumes it: no rate of the last hour says when that will be.
      estimated_wait_seconds:
        position === null || reason === 'paused' ? null : await this.estimateWait(entry, position, now),
      blocked_reason: reason,
    };
  }

  /** Lead (own org) or admin sets or clears the override; the stored effective priority follows at once. */
  async setPriority(
    caller: AuthenticatedUser,
    jobId: string,
    priority: number | null,
    now: Date = this.clock.now(),
  ): Promise<PositionView> {
    await this.override(caller, jobId, priority, now);
    log.info('Queue priority override set', { job_id: jobId, priority_override: priority, set_by: caller.username });
    return this.position(caller, jobId, now);
  }

  /** Job row first, then the entry: the lock order of every writer. */
  @Transactional()
  private async override(caller: AuthenticatedUser, jobId: string, priority: number | null, now: Date): Promise<void> {
    await this.transitions.lock([jobId]);
    const entry = await this.repo.find(jobId, true);
    if (!entry || !this.access.canSee(caller, entry)) throw new JobNotFoundError(jobId);
    if (!atLeast(caller.level, 'lead') || !this.access.canAct(caller, entry))
      throw new PermissionDeniedError('Only a lead or an admin can set a job priority');
    if (entry.status !== 'pending' && entry.status !== 'blocked') {
      throw new ConflictError(`Job ${jobId} is no longer waiting in the queue (${entry.status})`, {
        job_id: jobId,
        status: entry.status,
      });
    }
    const starvation = this.config.enterprise.starvationMinutes;
    const aged = agedPriority(entry.basePriority, priority, entry.pendingSince, now, starvation);
    await this.repo.update(jobId, {
      priorityOverride: priority,
      effectivePriority: aged.effective,
      nextAgingAt: aged.nextAgingAt,
      updatedAt: now,
    });
    await this.jobs.setPriorityOverride(jobId, priority);
    await this.audit.record({
      actor: caller,
      action: 'job.priority_override',
      targetType: 'job',
      targetId: jobId,
      orgId: entry.orgId,
      before: { priority_override: entry.priorityOverride, effective_priority: entry.effectivePriority },
      after: { priority_override: priority, effective_priority: aged.effective },
    });
  }

  private async visibleEntry(caller: AuthenticatedUser, jobId: string): Promise<QueueEntry> {
    const entry = await this.repo.find(jobId);
    if (!entry || !this.access.canSee(caller, entry)) throw new JobNotFoundError(jobId);
    return entry;
  }

  private async waitReason(e: QueueEntry, now: Date): Promise<WaitReason | null> {
    if (e.status === 'blocked') return (e.blockedReason as WaitReason | null) ?? 'awaiting_approval';
    if (e.status !== 'pending') return null;
    if (e.notBefore && e.notBefore.getTime() > now.getTime()) return 'backoff';
    if (await this.pauses.pausedFor(e.provider, e.orgId)) return 'paused';
    const limits = await this.limits.current();
    const used = await this.repo.slotsFor(e.userId, e.orgId);
    if (used.user >= limits.userMaxConcurrent) return 'user_limit';
    if (used.org >= limits.orgMaxConcurrent) return 'org_limit';
    if (used.total >= limits.maxConcurrent) return 'global_limit';
    return this.quotaReason(e, now);
  }

  /** What the claim's quota check would say of this entry now (a concurrent_jobs limit, a spent budget). */
  private async quotaReason(e: QueueEntry, now: Date): Promise<WaitReason | null> {
    if (!(await this.gate.active())) return null;
    const check = await this.gate.open((sql, params) => this.db.tx.query(sql, params), now);
    const entry = { jobId: e.jobId, userId: e.userId, orgId: e.orgId };
    await check.load([entry]);
    return check.tally()(entry);
  }

  /** From measured waits: position ÷ the dispatch rate of the last hour, and never before a backoff ends. */
  private async estimateWait(e: QueueEntry, position: number, now: Date): Promise<number | null> {
    const recent = await this.repo.recentDispatches(new Date(now.getTime() - RATE_WINDOW_MS));
    const backoff = e.notBefore ? Math.max(0, (e.notBefore.getTime() - now.getTime()) / 1000) : 0;
    if (recent.count === 0) return backoff > 0 ? Math.ceil(backoff) : null;
    const perSecond = recent.count / (RATE_WINDOW_MS / 1000);
    return Math.ceil(Math.max(backoff, position / perSecond));
  }
}
