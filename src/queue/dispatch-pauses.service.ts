import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AUDIT_RECORDER, AuditRecorder } from '../common/audit';
import { Clock } from '../common/clock';
import { NotFoundError, PermissionDeniedError, ValidationError } from '../common/errors';
import { Transactional } from '../database/transactional';
import type { AuthenticatedUser } from '../auth';
import { EventsService } from '../events';
import { getLogger } from '../logging';
import { ProviderRegistry } from '../providers';
import { DispatchPause, DispatchPausesRepository, PauseScope } from './dispatch-pauses.repository';
import { QueueEntriesService } from './queue-entries.service';
import type { DispatchPauseView } from './queue.view';

const log = getLogger('simpletuner.cloud.queue');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PauseTarget {
  scope: PauseScope;
  scope_id?: string | null;
}

const view = (p: DispatchPause): DispatchPauseView => ({
  id: p.id,
  scope: p.scope,
  scope_id: p.scopeId,
  reason: p.reason,
  paused_by: p.pausedBy,
  created_at: p.createdAt.toISOString(),
});

/**
 * Pausing dispatch for a scope: stored in `dispatch_pauses`, which the claim reads in its own statement, so a pause
 * holds on every instance and across restarts; entries stay pending and running jobs go on. An admin pauses any
 * scope, a lead its own org only.
 */
@Injectable()
export class DispatchPausesService {
  constructor(
    private readonly repo: DispatchPausesRepository,
    private readonly registry: ProviderRegistry,
    private readonly events: EventsService,
    private readonly entries: QueueEntriesService,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
    private readonly clock: Clock,
  ) {}

  /** Global, provider pauses and the caller's own org's; an admin sees all. */
  async list(caller: AuthenticatedUser): Promise<DispatchPauseView[]> {
    const all = await this.repo.list();
    const shown = all.filter((p) => caller.level === 'admin' || p.scope !== 'org' || p.scopeId === caller.orgId);
    return shown.map(view);
  }

  /** A new pause (`created` true), or the scope's existing one unchanged. */
  async pause(
    caller: AuthenticatedUser,
    target: PauseTarget,
    reason: string,
  ): Promise<{ created: boolean; pause: DispatchPauseView }> {
    const scopeId = await this.checkTarget(caller, target);
    const result = await this.store(caller, target.scope, scopeId, reason);
    if (result.created) {
      log.info('Queue dispatch paused', { scope: target.scope, scope_id: scopeId, reason, paused_by: caller.id });
    }
    return result;
  }

  async resume(caller: AuthenticatedUser, target: PauseTarget): Promise<DispatchPauseView> {
    const scopeId = await this.checkTarget(caller, target);
    const pause = await this.remove(caller, target.scope, scopeId);
    log.info('Queue dispatch resumed', { scope: target.scope, scope_id: scopeId, resumed_by: caller.id });
    return pause;
  }

  /** Whether an entry of this provider and org is in a paused scope. */
  pausedFor(provider: string, orgId: string): Promise<boolean> {
    return this.repo.pausedFor(provider, orgId);
  }

  @Transactional()
  private async store(caller: AuthenticatedUser, scope: PauseScope, scopeId: string | null, reason: string) {
    const row: DispatchPause = {
      id: randomUUID(),
      scope,
      scopeId,
      reason,
      pausedBy: caller.id,
      createdAt: this.clock.now(),
    };
    const inserted = await this.repo.insert(row);
    if (!inserted) return { created: false, pause: view((await this.repo.find(scope, scopeId))!) };
    await this.events.publish({ type: 'queue_paused', orgId: orgOf(inserted), data: eventData(inserted) });
    await this.audit.record({
      actor: caller,
      action: 'queue.pause',
      targetType: 'dispatch_pause',
      targetId: inserted.id,
      orgId: orgOf(inserted),
      after: view(inserted),
    });
    return { created: true, pause: view(inserted) };
  }

  @Transactional()
  private async remove(caller: AuthenticatedUser, scope: PauseScope, scopeId: string | null) {
    const pause = await this.repo.find(scope, scopeId, true);
    if (!pause) throw new NotFoundError(`Dispatch is not paused for ${scope}${scopeId ? ` ${scopeId}` : ''}`);
    await this.repo.delete(pause.id);
    await this.events.publish({
      type: 'queue_resumed',
      orgId: orgOf(pause),
      data: { ...eventData(pause), resumed_by: caller.id },
    });
    await this.audit.record({
      actor: caller,
      action: 'queue.resume',
      targetType: 'dispatch_pause',
      targetId: pause.id,
      orgId: orgOf(pause),
      before: view(pause),
    });
    // What the pause held back is claimed by this instance's next tick, woken once this commits.
    this.entries.wakeAfterCommit();
    return view(pause);
  }

  /** The scope's id as stored (null for global); 400 when it is missing or names nothing, 403 beyond a lead's org. */
  private async checkTarget(caller: AuthenticatedUser, target: PauseTarget): Promise<string | null> {
    const { scope } = target;
    const scopeId = target.scope_id ?? null;
    if (scope === 'global') {
      if (scopeId !== null)
        throw new ValidationError('scope_id must be absent for a global pause', { scope_id: 'must be absent' });
    } else if (scopeId === null) {
      throw new ValidationError(`scope_id is required for a ${scope} pause`, { scope_id: 'required' });
    } else if (scope === 'provider' && !this.registry.has(scopeId)) {
      throw new ValidationError(`Unknown provider ${scopeId}`, { scope_id: 'unknown provider' });
    } else if (scope === 'org' && (!UUID.test(scopeId) || !(await this.repo.orgExists(scopeId)))) {
      throw new ValidationError(`Unknown organisation ${scopeId}`, { scope_id: 'unknown organisation' });
    }
    if (caller.level !== 'admin' && !(scope === 'org' && scopeId!.toLowerCase() === caller.orgId)) {
      throw new PermissionDeniedError('A lead pauses and resumes dispatch of its own organisation only');
    }
    return scope === 'org' ? scopeId!.toLowerCase() : scopeId;
  }
}

const orgOf = (p: DispatchPause) => (p.scope === 'org' ? p.scopeId : null);
const eventData = (p: DispatchPause) => ({
  scope: p.scope,
  scope_id: p.scopeId,
  reason: p.reason,
  paused_by: p.pausedBy,
});
