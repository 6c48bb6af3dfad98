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
    const user = row?.user;
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

  /** A NOTIFY sent when the current transaction commits (none if it rolls back). */
  async notify(channel: string, payload: string): Promise<void> {
    await this.db.tx.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  listKeys(userId: string): Promise<ApiKey[]> {
    return this.db.tx.getRepository(ApiKey).find({ where: { userId }, order: { createdAt: 'ASC' } });
  }

  /** Records a use, at most once a minute per key (a write per request would cost more than the request). */
  async touchKey(id: string): Promise<void> {
    await this.db.tx.query(
      `UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }

  /**
   * The authority behind these keys now: for each key still valid (not revoked, not expired, user active), its
   * user's current organisation and level.
   */
  async validKeys(ids: string[]): Promise<Map<string, { userId: string; orgId: string; level: string }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.tx.query<{ id: string; user_id: string; org_id: string; level: string }[]>(
      `SELECT k.id, u.id AS user_id, u.org_id, u.level FROM api_keys k JOIN users u ON u.id = k.user_id
        WHERE k.id = ANY($1::uuid[]) AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
          AND u.is_active`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, { userId: r.user_id, orgId: r.org_id, level: r.level }]));
  }

  /** Serialises the first-boot admin creation across instances until the transaction ends. */
  lockBootstrap(key: number): Promise<void> {
    return lockUntilCommit(this.db.tx, key);
  }
}
