import { Injectable } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { lockUntilCommit } from '../database/advisory-lock';
import { Db } from '../database/transaction-host';
import { ApiKey } from './api-key.entity';
import { Org } from './org.entity';
import { User } from './user.entity';

/** Thrown for a unique key already taken (username, organisation name). */
export class DuplicateError extends Error {}

function rethrowDuplicate(err: unknown): never {
  if (err instanceof QueryFailedError && (err.driverError as { code?: string })?.code === '23505') {
    throw new DuplicateError(err.message);
  }
  throw err;
}

/** The auth module's SQL: users, organisations and API keys. */
@Injectable()
export class UsersRepository {
  constructor(private readonly db: Db) {}

  /** The key and its user, by the key's hash. */
  async keyWithUser(keyHash: string): Promise<{ key: ApiKey; user: User } | null> {
    const row = await this.db.tx
      .getRepository(ApiKey)
      .createQueryBuilder('k')
      .innerJoinAndMapOne('k.user', User, 'u', 'u.id = k.user_id')
      .where('k.key_hash = :hash', { hash: keyHash })
      .getOne();
    const user = (row as (ApiKey & { user?: User }) | null)?.user;
    return row && user ? { key: row, user } : null;
  }

  saveKey(key: Partial<ApiKey>): Promise<ApiKey> {
    return this.db.tx.getRepository(ApiKey).save(key);
  }

  findKey(id: string): Promise<ApiKey | null> {
    return this.db.tx.getRepository(ApiKey).findOneBy({ id });
  }

  findUser(id: string): Promise<User | null> {
    return this.db.tx.getRepository(User).findOneBy({ id });
  }

  listUsers(orgId?: string): Promise<User[]> {
    return this.db.tx.getRepository(User).find({ where: orgId ? { orgId } : {}, order: { createdAt: 'ASC' } });
  }

  countUsers(): Promise<number> {
    return this.db.tx.getRepository(User).count();
  }

  async saveUser(user: Partial<User>): Promise<User> {
    try {
      return await this.db.tx.getRepository(User).save(user);
    } catch (err) {
      rethrowDuplicate(err);
    }
  }

  orgExists(id: string): Promise<boolean> {
    return this.db.tx.getRepository(Org).existsBy({ id });
  }

  findOrgByName(name: string): Promise<Org | null> {
    return this.db.tx.getRepository(Org).findOneBy({ name });
  }

  async saveOrg(org: Partial<Org>): Promise<Org> {
    try {
      return await this.db.tx.getRepository(Org).save(org);
    } catch (err) {
      rethrowDuplicate(err);
    }
  }

  listOrgs(id?: string): Promise<Org[]> {
    return this.db.tx.getRepository(Org).find({ where: id ? { id } : {}, order: { createdAt: 'ASC' } });
  }

  /** Serialises the first-boot admin creation across instances until the transaction ends. */
  lockBootstrap(key: number): Promise<void> {
    return lockUntilCommit(this.db.tx, key);
  }
}
