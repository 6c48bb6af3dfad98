import { Inject, Injectable } from '@nestjs/common';
import { Transactional } from '../database/transactional';
import { AUDIT_RECORDER, AuditRecorder } from '../common/audit';
import { ConflictError, NotFoundError, PermissionDeniedError, ValidationError } from '../common/errors';
import { getLogger } from '../logging';
import { AccessPolicy } from './access-policy';
import type { ApiKey } from './api-key.entity';
import { AuthChanges } from './auth-changes.service';
import { AuthService } from './auth.service';
import type { AuthenticatedUser } from './authenticated-user';
import type { Org } from './org.entity';
import { atLeast, type User, type UserLevel } from './user.entity';
import type { CreateApiKeyDto, CreateUserDto, UpdateUserDto } from './users.dto';
import { DuplicateError, IndependenceConflict, UsersRepository } from './users.repository';
import { SessionsService } from './sessions.service';
import type { ApiKeyView, CreatedApiKeyView, OrgView, UserView } from './users.view';

const log = getLogger('simpletuner.cloud.auth');

export function userView(u: User): UserView {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    level: u.level,
    org_id: u.orgId,
    is_active: u.isActive,
    created_by: u.createdBy,
    created_at: u.createdAt.toISOString(),
  };
}

export const orgView = (o: { id: string; name: string; createdAt: Date }): OrgView => ({
  id: o.id,
  name: o.name,
  created_at: o.createdAt.toISOString(),
});

/** Usernames are unique within an organisation only: the answer says nothing about other organisations. */
function usernameTaken(username: string): ConflictError {
  return new ConflictError(`Username ${username} is taken in this organisation`, { username });
}

/** A key as anyone may see it: never the secret, only its display prefix. */
export function apiKeyView(k: ApiKey): ApiKeyView {
  return {
    id: k.id,
    user_id: k.userId,
    name: k.name,
    prefix: k.keyPrefix,
    created_by: k.createdBy,
    expires_at: k.expiresAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    created_at: k.createdAt.toISOString(),
  };
}

/** Users, organisations and keys; who may do what is AccessPolicy's. Every change is audited in its transaction. */
@Injectable()
export class UsersService {
  constructor(
    private readonly repo: UsersRepository,
    private readonly auth: AuthService,
    private readonly access: AccessPolicy,
    private readonly changes: AuthChanges,
    private readonly sessions: SessionsService,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
  ) {}

  /** A user the caller may see, else 404. */
  async findVisible(caller: AuthenticatedUser, id: string): Promise<User> {
    const user = await this.repo.findUser(id);
    if (!user || !this.access.canSeeUser(caller, user)) throw new NotFoundError(`User ${id} not found`);
    return user;
  }

  /** Any user by id, for other modules' rules (who created whom); null when unknown. */
  findById(id: string): Promise<User | null> {
    return this.repo.findUser(id);
  }

  /** Whether an organisation exists, for other modules' validation. */
  orgExists(id: string): Promise<boolean> {
    return this.repo.orgExists(id);
  }

  /**
   * The ties between an approver (and who minted its key) and a job's requester (and who minted the key the job
   * was submitted with), through who created whom; AccessPolicy.decisionRefusal says what they mean.
   */
  independenceConflicts(
    approver: AuthenticatedUser,
    requester: { userId: string; keyId: string | null; keyMintedBy: string | null },
  ): Promise<IndependenceConflict[]> {
    return this.repo.independenceConflicts(requester, { userId: approver.id, keyId: approver.apiKeyId });
  }

  /**
   * The addresses of who may decide an approval request of `orgId` needing `level`: its active users at that level
   * or above (never viewers) who have an email, except `requesterId` (nobody decides their own request).
   */
  async approverEmails(orgId: string, level: UserLevel, requesterId: string | null): Promise<string[]> {
    const users = await this.repo.listUsers(orgId);
    return users
      .filter((u) => u.isActive && u.email && u.level !== 'viewer' && atLeast(u.level, level) && u.id !== requesterId)
      .map((u) => u.email!);
  }

  /** A user's email address, if it is active and has one. */
  async emailOf(userId: string): Promise<string | null> {
    const user = await this.repo.findUser(userId);
    return user?.isActive && user.email ? user.email : null;
  }

  me(caller: AuthenticatedUser): Promise<User> {
    return this.findVisible(caller, caller.id);
  }

  list(caller: AuthenticatedUser): Promise<User[]> {
    return this.repo.listUsers(caller.level === 'admin' ? undefined : caller.orgId);
  }

  @Transactional()
  async create(caller: AuthenticatedUser, dto: CreateUserDto): Promise<User> {
    const orgId = dto.org_id ?? caller.orgId;
    this.assertCanManage(caller, orgId, dto.level);
    if (!(await this.repo.orgExists(orgId))) {
      throw new ValidationError(`Organisation ${orgId} does not exist`, { org_id: 'unknown organisation' });
    }
    let user: User;
    try {
      user = await this.repo.saveUser({
        username: dto.username,
        email: dto.email ?? null,
        level: dto.level,
        orgId,
        isActive: true,
        createdBy: caller.id,
      });
    } catch (err) {
      if (err instanceof DuplicateError) throw usernameTaken(dto.username);
      throw err;
    }
    await this.audit.record({
      actor: caller,
      action: 'user.create',
      targetType: 'user',
      targetId: user.id,
      orgId,
      after: userView(user),
    });
    log.info('User created', { user_id: user.id, level: user.level, org_id: orgId });
    return user;
  }

  /** A change of activity, organisation or level ends what the old authority granted (open streams, cached keys). */
  @Transactional()
  async update(caller: AuthenticatedUser, id: string, dto: UpdateUserDto): Promise<User> {
    const user = await this.findVisible(caller, id);
    if (caller.level !== 'admin') {
      if (caller.level !== 'lead') throw new PermissionDeniedError('Only leads and admins change users');
      this.assertCanManage(caller, dto.org_id ?? user.orgId, dto.level ?? user.level);
      if (user.level === 'admin') throw new PermissionDeniedError('A lead cannot change an admin');
    }
    if (dto.org_id && !(await this.repo.orgExists(dto.org_id))) {
      throw new ValidationError(`Organisation ${dto.org_id} does not exist`, { org_id: 'unknown organisation' });
    }
    const before = userView(user);
    if (dto.email !== undefined) user.email = dto.email;
    if (dto.level) user.level = dto.level;
    if (dto.is_active !== undefined) user.isActive = dto.is_active;
    if (dto.org_id) user.orgId = dto.org_id;
    try {
      await this.repo.saveUser(user);
    } catch (err) {
      if (err instanceof DuplicateError) throw usernameTaken(user.username);
      throw err;
    }
    const after = userView(user);
    if (!after.is_active) await this.sessions.endAllOf(user.id);
    if (before.is_active !== after.is_active || before.org_id !== after.org_id || before.level !== after.level) {
      await this.changes.announce({ userId: user.id });
    }
    await this.audit.record({
      actor: caller,
      action: 'user.update',
      targetType: 'user',
      targetId: user.id,
      orgId: user.orgId,
      before,
      after,
    });
    log.info('User updated', { user_id: user.id });
    return user;
  }

  @Transactional()
  async createOrg(caller: AuthenticatedUser, name: string): Promise<Org> {
    let org: Org;
    try {
      org = await this.repo.saveOrg({ name });
    } catch (err) {
      if (err instanceof DuplicateError) throw new ConflictError(`Organisation ${name} exists`, { name });
      throw err;
    }
    await this.audit.record({
      actor: caller,
      action: 'org.create',
      targetType: 'org',
      targetId: org.id,
      orgId: org.id,
      after: { id: org.id, name: org.name },
    });
    return org;
  }

  listOrgs(caller: AuthenticatedUser): Promise<Org[]> {
    return this.repo.listOrgs(caller.level === 'admin' ? undefined : caller.orgId);
  }

  /** A user's keys, for that user and whoever may manage them (never a key's secret). */
  async listKeys(caller: AuthenticatedUser, userId: string): Promise<ApiKey[]> {
    const user = await this.findVisible(caller, userId);
    if (user.id !== caller.id) this.assertCanManage(caller, user.orgId, user.level);
    return this.repo.listKeys(user.id);
  }

  /**
   * A key for oneself, or for a user one manages. A key that expires mints only keys that expire no later, so an
   * expiring key cannot leave a longer-lived one behind.
   */
  @Transactional()
  async createKey(caller: AuthenticatedUser, userId: string, dto: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    const user = await this.findVisible(caller, userId);
    if (user.id !== caller.id) this.assertCanManage(caller, user.orgId, user.level);
    const expiresAt = dto.expires_at ? new Date(dto.expires_at) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw new ValidationError('expires_at must be in the future', { expires_at: 'in the past' });
    }
    const bound = caller.keyExpiresAt ?? null;
    if (bound && (!expiresAt || expiresAt.getTime() > bound.getTime())) {
      throw new PermissionDeniedError(
        `The key you are using expires at ${bound.toISOString()}: it can only mint keys that expire no later`,
        { expires_at: `at most ${bound.toISOString()}` },
      );
    }
    const { apiKey, key } = await this.auth.issueKey(user.id, {
      name: dto.name,
      expiresAt,
      createdBy: caller.id,
      createdByKey: caller.apiKeyId,
    });
    await this.audit.record({
      actor: caller,
      action: 'api_key.create',
      targetType: 'api_key',
      targetId: apiKey.id,
      orgId: user.orgId,
      after: apiKeyView(apiKey),
    });
    log.info('API key created', { user_id: user.id, api_key_id: apiKey.id, prefix: apiKey.keyPrefix });
    return { ...apiKeyView(apiKey), key };
  }

  /** Revoking ends the key everywhere at once: open streams close, no instance accepts it any more. */
  @Transactional()
  async revokeKey(caller: AuthenticatedUser, keyId: string): Promise<ApiKey> {
    const key = await this.repo.findKey(keyId);
    if (!key) throw new NotFoundError(`API key ${keyId} not found`);
    const owner = await this.findVisible(caller, key.userId).catch(() => {
      throw new NotFoundError(`API key ${keyId} not found`);
    });
    if (owner.id !== caller.id) this.assertCanManage(caller, owner.orgId, owner.level);
    if (!key.revokedAt) {
      const before = apiKeyView(key);
      key.revokedAt = new Date();
      await this.repo.saveKey(key);
      await this.changes.announce({ userId: owner.id, keyId: key.id });
      await this.audit.record({
        actor: caller,
        action: 'api_key.revoke',
        targetType: 'api_key',
        targetId: key.id,
        orgId: owner.orgId,
        before,
        after: apiKeyView(key),
      });
      log.info('API key revoked', { user_id: owner.id, api_key_id: key.id });
    }
    return key;
  }

  private assertCanManage(caller: AuthenticatedUser, orgId: string, level: User['level']): void {
    const refusal = this.access.manageRefusal(caller, orgId, level);
    if (refusal) throw new PermissionDeniedError(refusal);
  }
}
