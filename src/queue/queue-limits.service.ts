import { Inject, Injectable } from '@nestjs/common';
import { AUDIT_RECORDER, AuditActor, AuditRecorder } from '../common/audit';
import { SettingsCache } from '../database/settings-cache';
import { Transactional } from '../database/transactional';
import { AppConfig } from '../config';
import { EventsService } from '../events';
import { getLogger } from '../logging';
import { SettingsService } from '../settings';

/** Limits as stored (null = use the configured default). */
export interface StoredLimits {
  max_concurrent: number | null;
  user_max_concurrent: number | null;
  org_max_concurrent: number | null;
}

const LIMITS_KEY = 'queue_limits';

const log = getLogger('simpletuner.cloud.queue');

export interface QueueLimits {
  maxConcurrent: number;
  userMaxConcurrent: number;
  orgMaxConcurrent: number;
}

export interface LimitsView {
  max_concurrent: number;
  user_max_concurrent: number;
  org_max_concurrent: number;
  /** Where each value comes from: `database` (set through the API) or `config` (env/file/default). */
  source: Record<keyof StoredLimits, 'database' | 'config'>;
}

const KEYS: (keyof StoredLimits)[] = ['max_concurrent', 'user_max_concurrent', 'org_max_concurrent'];

/**
 * Limits live in the database, and each instance keeps them in memory (SettingsCache): every claim reads them, and
 * they rarely change. A change reaches the next claim at once on the instance that made it, and on the others as
 * soon as its notification arrives (five seconds at most while the notification connection is down). The claim
 * counts the slots in use under its lock whatever the limits, so with any value several instances never over-admit.
 */
@Injectable()
export class QueueLimitsService {
  constructor(
    private readonly config: AppConfig,
    private readonly settings: SettingsService,
    private readonly events: EventsService,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
    private readonly cache: SettingsCache,
  ) {}

  /** Inside a transaction (a change) the database is read directly. */
  private async stored(): Promise<Partial<StoredLimits>> {
    const value = await this.cache.get(LIMITS_KEY, () => this.settings.get(LIMITS_KEY));
    return value && typeof value === 'object' ? value : {};
  }

  private defaults(): Record<keyof StoredLimits, number> {
    const e = this.config.enterprise;
    return {
      max_concurrent: e.queueMaxConcurrent,
      user_max_concurrent: e.queueUserMaxConcurrent,
      org_max_concurrent: e.queueOrgMaxConcurrent,
    };
  }

  async current(): Promise<QueueLimits> {
    const v = await this.view();
    return {
      maxConcurrent: v.max_concurrent,
      userMaxConcurrent: v.user_max_concurrent,
      orgMaxConcurrent: v.org_max_concurrent,
    };
  }

  async view(): Promise<LimitsView> {
    const stored = await this.stored();
    const defaults = this.defaults();
    const out = { source: {} } as LimitsView;
    for (const k of KEYS) {
      const v = stored[k];
      const fromDb = typeof v === 'number' && v >= 1;
      out[k] = fromDb ? v : defaults[k];
      out.source[k] = fromDb ? 'database' : 'config';
    }
    return out;
  }

  /** A field absent keeps its stored value; null clears it back to the configured default. */
  async update(patch: Partial<StoredLimits>, by: AuditActor): Promise<LimitsView> {
    const view = await this.store(patch, by);
    log.info('Queue limits changed', {
      max_concurrent: view.max_concurrent,
      user_max_concurrent: view.user_max_concurrent,
      org_max_concurrent: view.org_max_concurrent,
      changed_by: by.username,
    });
    return view;
  }

  /** The new limits and queue_limits_changed commit together. */
  @Transactional()
  private async store(patch: Partial<StoredLimits>, by: AuditActor): Promise<LimitsView> {
    const before = await this.view();
    const stored = await this.stored();
    const next: StoredLimits = {
      max_concurrent: stored.max_concurrent ?? null,
      user_max_concurrent: stored.user_max_concurrent ?? null,
      org_max_concurrent: stored.org_max_concurrent ?? null,
    };
    for (const k of KEYS) if (patch[k] !== undefined) next[k] = patch[k];
    await this.settings.set(LIMITS_KEY, next);
    await this.cache.changed(LIMITS_KEY);
    const v = await this.view();
    await this.events.publish({
      type: 'queue_limits_changed',
      data: {
        max_concurrent: v.max_concurrent,
        user_max_concurrent: v.user_max_concurrent,
        org_max_concurrent: v.org_max_concurrent,
        changed_by: by.username,
      },
    });
    await this.audit.record({
      actor: by,
      action: 'queue_limits.update',
      targetType: 'queue_limits',
      targetId: null,
      orgId: null,
      before,
      after: v,
    });
    return v;
  }
}
