import { Inject, Injectable } from '@nestjs/common';
import { AccessPolicy, USER_LEVELS, UsersService, type AuthenticatedUser } from '../auth';
import { AUDIT_RECORDER, AuditRecorder } from '../common/audit';
import { NotFoundError, PermissionDeniedError, ValidationError } from '../common/errors';
import { SettingsCache } from '../database/settings-cache';
import { Transactional } from '../database/transactional';
import { getLogger } from '../logging';
import { ProviderRegistry } from '../providers';
import { Quota, QuotaAction } from './quota.entity';
import type { CreateQuotaDto, UpdateQuotaDto } from './quotas.dto';
import { QuotasRepository } from './quotas.repository';
import { quotaView } from './quota-views';

const log = getLogger('simpletuner.cloud.quotas');

/** Every instance keeps the active quotas in memory (each submit reads them); a change drops them everywhere. */
const ACTIVE_QUOTAS_KEY = 'quotas.active';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** From the loosest action to the strictest: a lead may only move an admin-set quota towards `block`. */
const STRICTNESS: Record<QuotaAction, number> = { warn: 0, require_approval: 1, block: 2 };

/** Quotas: the rights of admins and leads over them, their validation, their audit, the cached active list. */
@Injectable()
export class QuotasService {
  constructor(
    private readonly repo: QuotasRepository,
    private readonly access: AccessPolicy,
    private readonly users: UsersService,
    private readonly providers: ProviderRegistry,
    private readonly cache: SettingsCache,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
  ) {}

  /** The active quotas, from memory (dropped on every instance when one changes). */
  active(): Promise<Quota[]> {
    return this.cache.get(ACTIVE_QUOTAS_KEY, () => this.repo.active());
  }

  /** What the caller may see: every quota for an admin; for a lead its org's and its members' user quotas. */
  list(caller: AuthenticatedUser): Promise<Quota[]> {
    return this.repo.list(caller.level === 'admin' ? undefined : caller.orgId);
  }

  /** A quota the caller may see, else 404. */
  async get(caller: AuthenticatedUser, id: string): Promise<Quota> {
    const quota = await this.repo.find(id);
    if (!quota || !this.access.canSeeQuota(caller, { scope: quota.scope, subjectOrgId: await this.orgOf(quota) }))
      throw new NotFoundError(`Quota ${id} not found`);
    return quota;
  }

  @Transactional()
  async create(caller: AuthenticatedUser, dto: CreateQuotaDto): Promise<Quota> {
    this.assertMay(caller, { scope: dto.scope, adminSet: false }, false);
    const scopeId = await this.checkScope(caller, dto.scope, dto.scope_id ?? null);
    checkLimit(dto.type, dto.limit);
    const quota = await this.repo.save({
      scope: dto.scope,
      scopeId,
      type: dto.type,
      limit: dto.limit,
      action: dto.action,
      isActive: dto.is_active ?? true,
      adminSet: caller.level === 'admin',
      createdBy: caller.id,
    });
    await this.record(caller, 'quota.create', quota, undefined, quotaView(quota));
    log.info('Quota created', { quota_id: quota.id, scope: quota.scope, type: quota.type, user_id: caller.id });
    return quota;
  }

  @Transactional()
  async update(caller: AuthenticatedUser, id: string, dto: UpdateQuotaDto): Promise<Quota> {
    const quota = await this.get(caller, id);
    const before = quotaView(quota);
    const next = {
      limit: dto.limit ?? quota.limit,
      action: dto.action ?? quota.action,
      isActive: dto.is_active ?? quota.isActive,
    };
    const loosens =
      next.limit > quota.limit ||
      STRICTNESS[next.action] < STRICTNESS[quota.action] ||
      (quota.isActive && !next.isActive);
    this.assertMay(caller, quota, loosens);
    checkLimit(quota.type, next.limit);
    Object.assign(quota, next, { adminSet: quota.adminSet || caller.level === 'admin' });
    const saved = await this.repo.save(quota);
    await this.record(caller, 'quota.update', saved, before, quotaView(saved));
    log.info('Quota updated', { quota_id: id, user_id: caller.id, changed: Object.keys(dto) });
    return saved;
  }

  @Transactional()
  async remove(caller: AuthenticatedUser, id: string): Promise<void> {
    const quota = await this.get(caller, id);
    this.assertMay(caller, quota, true);
    await this.repo.remove(id);
    await this.record(caller, 'quota.delete', quota, quotaView(quota), undefined);
    log.info('Quota deleted', { quota_id: id, user_id: caller.id });
  }

  private assertMay(caller: AuthenticatedUser, quota: { scope: string; adminSet: boolean }, loosens: boolean): void {
    const refusal = this.access.quotaRefusal(caller, quota, loosens);
    if (refusal) throw new PermissionDeniedError(refusal);
  }

  /**
   * The scope id as stored, or 400 naming `scope_id` when it names nothing (a user or org the caller may not see
   * reads as none: a lead names its own org and its members).
   */
  private async checkScope(caller: AuthenticatedUser, scope: Quota['scope'], scopeId: string | null) {
    const bad = (why: string) => new ValidationError(`Invalid scope_id: ${why}`, { scope_id: why });
    if (scope === 'global') {
      if (scopeId !== null) throw bad('a global quota has no scope_id');
      return null;
    }
    if (scopeId === null) throw bad(`a ${scope} quota needs a scope_id`);
    const visible = caller.level === 'admin' ? undefined : caller.orgId;
    switch (scope) {
      case 'user': {
        const user = UUID.test(scopeId) ? await this.users.findById(scopeId) : null;
        if (!user || (visible && user.orgId !== visible)) throw bad(`no user ${scopeId}`);
        return user.id;
      }
      case 'org': {
        const exists = UUID.test(scopeId) && (await this.users.orgExists(scopeId));
        if (!exists || (visible && scopeId.toLowerCase() !== visible)) throw bad(`no organisation ${scopeId}`);
        return scopeId.toLowerCase();
      }
      case 'level':
        if (!(USER_LEVELS as readonly string[]).includes(scopeId)) throw bad(`no level ${scopeId}`);
        return scopeId;
      case 'provider':
        if (!this.providers.has(scopeId)) throw bad(`no provider ${scopeId}`);
        return scopeId;
    }
  }

  /** The organisation a quota is about: the org of an org quota, the user's org for a user quota; else null. */
  private async orgOf(quota: Quota): Promise<string | null> {
    if (quota.scope === 'org') return quota.scopeId;
    if (quota.scope !== 'user' || !quota.scopeId) return null;
    return (await this.users.findById(quota.scopeId))?.orgId ?? null;
  }

  /** The audit row (in the change's transaction) and the cached quotas dropped everywhere once it commits. */
  private async record(caller: AuthenticatedUser, action: string, quota: Quota, before: unknown, after: unknown) {
    await this.cache.changed(ACTIVE_QUOTAS_KEY);
    await this.audit.record({
      actor: caller,
      action,
      targetType: 'quota',
      targetId: quota.id,
      orgId: await this.orgOf(quota),
      before,
      after,
    });
  }
}

/** 400 naming `limit`: above 0, and a whole number for counts. */
function checkLimit(type: Quota['type'], limit: number): void {
  if (!(limit > 0)) throw new ValidationError('Invalid limit', { limit: 'limit must be greater than 0' });
  if (!type.startsWith('cost') && !Number.isInteger(limit))
    throw new ValidationError('Invalid limit', { limit: `a ${type} quota needs a whole number` });
}
