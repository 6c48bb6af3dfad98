import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError } from 'typeorm';
import { ConflictError, NotFoundError, PermissionDeniedError, ValidationError } from '../common/errors';
import { getLogger } from '../logging';
import { ApiKey } from './api-key.entity';
import { AuthService } from './auth.service';
import type { AuthenticatedUser } from './authenticated-user';
import { Org } from './org.entity';
import { atLeast, User } from './user.entity';
import type { CreateApiKeyDto, CreateUserDto, UpdateUserDto } from './users.dto';
import type { ApiKeyView, CreatedApiKeyView, UserView } from './users.view';

const log = getLogger('simpletuner.cloud.auth');

function isUniqueViolation(err: unknown): boolean {
  return err instanceof QueryFailedError && (err.driverError as { code?: string })?.code === '23505';
}

export function userView(u: User): UserView {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    level: u.level,
    org_id: u.orgId,
    is_active: u.isActive,
    created_at: u.createdAt.toISOString(),
  };
}

export function apiKeyView(k: ApiKey): ApiKeyView {
  return {
    id: k.id,
    user_id: k.userId,
    name: k.name,
    prefix: k.keyPrefix,
    expires_at: k.expiresAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
    created_at: k.createdAt.toISOString(),
  };
}

/** Users, organisations and keys, with SPEC §3's rules: admin everywhere, lead within its org up to lead. */
@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly auth: AuthService,
  ) {}

  /** A user the caller may see (self, own org for a lead, anyone for an admin), else 404. */
  async findVisible(caller: AuthenticatedUser, id: string): Promise<User> {
    const user = await this.db.getRepository(User).findOneBy({ id });
    const visible =
      user &&
      (caller.level === 'admin' || user.id === caller.id || (caller.level === 'lead' && user.orgId === caller.orgId));
    if (!visible) throw new NotFoundError(`User ${id} not found`);
    return user;
  }

  async me(caller: AuthenticatedUser): Promise<User> {
    return this.findVisible(caller, caller.id);
  }

  async list(caller: AuthenticatedUser): Promise<User[]> {
    const where = caller.level === 'admin' ? {} : { orgId: caller.orgId };
    return this.db.getRepository(User).find({ where, order: { createdAt: 'ASC' } });
  }

  async create(caller: AuthenticatedUser, dto: CreateUserDto): Promise<User> {
    const orgId = dto.org_id ?? caller.orgId;
    this.assertCanManage(caller, orgId, dto.level);
    if (!(await this.db.getRepository(Org).existsBy({ id: orgId }))) {
      throw new ValidationError(`Organisation ${orgId} does not exist`, { org_id: 'unknown organisation' });
    }
    try {
      const user = await this.db.getRepository(User).save({
        username: dto.username,
        email: dto.email ?? null,
        level: dto.level,
        orgId,
        isActive: true,
      });
      log.info('User created', { user_id: user.id, level: user.level, org_id: orgId });
      return user;
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ConflictError(`Username ${dto.username} is taken`, { username: dto.username });
      throw err;
    }
  }

  async update(caller: AuthenticatedUser, id: string, dto: UpdateUserDto): Promise<User> {
    const user = await this.findVisible(caller, id);
    if (caller.level !== 'admin') {
      if (caller.level !== 'lead') throw new PermissionDeniedError('Only leads and admins change users');
      this.assertCanManage(caller, dto.org_id ?? user.orgId, dto.level ?? user.level);
      if (user.level === 'admin') throw new PermissionDeniedError('A lead cannot change an admin');
    }
    if (dto.org_id && !(await this.db.getRepository(Org).existsBy({ id: dto.org_id }))) {
      throw new ValidationError(`Organisation ${dto.org_id} does not exist`, { org_id: 'unknown organisation' });
    }
    if (dto.email !== undefined) user.email = dto.email;
    if (dto.level) user.level = dto.level;
    if (dto.is_active !== undefined) user.isActive = dto.is_active;
    if (dto.org_id) user.orgId = dto.org_id;
    await this.db.getRepository(User).save(user);
    log.info('User updated', { user_id: user.id });
    return user;
  }

  async createOrg(name: string): Promise<Org> {
    try {
      return await this.db.getRepository(Org).save({ name });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`Organisation ${name} exists`, { name });
      throw err;
    }
  }

  async listOrgs(caller: AuthenticatedUser): Promise<Org[]> {
    const where = caller.level === 'admin' ? {} : { id: caller.orgId };
    return this.db.getRepository(Org).find({ where, order: { createdAt: 'ASC' } });
  }

  async createKey(caller: AuthenticatedUser, userId: string, dto: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    const user = await this.findVisible(caller, userId);
    if (user.id !== caller.id) this.assertCanManage(caller, user.orgId, user.level);
    const expiresAt = dto.expires_at ? new Date(dto.expires_at) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw new ValidationError('expires_at must be in the future', { expires_at: 'in the past' });
    }
    const { apiKey, key } = await this.auth.issueKey(user.id, { name: dto.name, expiresAt });
    log.info('API key created', { user_id: user.id, api_key_id: apiKey.id, prefix: apiKey.keyPrefix });
    return { ...apiKeyView(apiKey), key };
  }

  async revokeKey(caller: AuthenticatedUser, keyId: string): Promise<ApiKey> {
    const key = await this.db.getRepository(ApiKey).findOneBy({ id: keyId });
    if (!key) throw new NotFoundError(`API key ${keyId} not found`);
    const owner = await this.findVisible(caller, key.userId).catch(() => {
      throw new NotFoundError(`API key ${keyId} not found`);
    });
    if (owner.id !== caller.id) this.assertCanManage(caller, owner.orgId, owner.level);
    if (!key.revokedAt) {
      key.revokedAt = new Date();
      await this.db.getRepository(ApiKey).save(key);
      log.info('API key revoked', { user_id: owner.id, api_key_id: key.id });
    }
    return key;
  }

  private assertCanManage(caller: AuthenticatedUser, orgId: string, level: User['level']): void {
    if (caller.level === 'admin') return;
    if (caller.level !== 'lead') throw new PermissionDeniedError('Only leads and admins manage users');
    if (orgId !== caller.orgId) throw new PermissionDeniedError('A lead manages users of its own organisation only');
    if (!atLeast('lead', level)) throw new PermissionDeniedError('A lead creates users up to level lead');
  }
}
