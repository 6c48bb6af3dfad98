import { Injectable } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { ACTIVE_STATUSES } from '../common/job-status';
import { lockUntilCommit } from '../database/advisory-lock';
import { Db } from '../database/transaction-host';
import { ApiKey } from './api-key.entity';
import { Org } from './org.entity';
import { User } from './user.entity';

/** How far the independence walk follows account creation; real chains are two or three links long. */
const MAX_CHAIN_DEPTH = 16;

/** A tie between someone on the approver's side and someone on the requester's side (see AccessPolicy). */
export interface IndependenceConflict {
  approverSide: 'approver' | 'approver_key_minter';
  requesterSide: 'requester' | 'key_minter';
  /** The approver's-side account is the requester's-side one, created it (transitively), or was created by it. */
  relation: 'self' | 'ancestor' | 'descendant';
}

/** Thrown for a unique key already taken (username, organisation name). */
export class DuplicateError extends Error {}

/** Thrown when a row to delete is still referenced (an organisation's jobs, uploads, approvals). */
export class StillReferencedError extends Error {}

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

  findUserBySubject(oidcSubject: string): Promise<User | null> {
    return this.db.tx.getRepository(User).findOneBy({ oidcSubject });
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

  findOrg(id: string): Promise<Org | null> {
    return this.db.tx.getRepository(Org).findOneBy({ id });
  }

  countOrgUsers(orgId: string): Promise<number> {
    return this.db.tx.getRepository(User).countBy({ orgId });
  }

  async countActiveOrgJobs(orgId: string): Promise<number> {
    const [row] = await this.db.tx.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM jobs WHERE org_id = $1 AND status = ANY($2::text[])`,
      [orgId, ACTIVE_STATUSES],
    );
    return row.n;
  }

  /** Whether finished jobs, approval requests or uploads still name the organisation. */
  async orgHasHistory(orgId: string): Promise<boolean> {
    const [row] = await this.db.tx.query<{ found: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM jobs WHERE org_id = $1)
           OR EXISTS (SELECT 1 FROM approval_requests WHERE org_id = $1)
           OR EXISTS (SELECT 1 FROM uploads WHERE org_id = $1) AS found`,
      [orgId],
    );
    return row.found;
  }

  /** Marks the organisation deleted (its history keeps naming it) and removes its notification channels. */
  async markOrgDeleted(orgId: string): Promise<void> {
    await this.db.tx.getRepository(Org).softDelete({ id: orgId });
    await this.db.tx.query(`DELETE FROM notification_channels WHERE org_id = $1`, [orgId]);
  }

  /** Deletes the organisation; StillReferencedError while any record (a job, an upload…) still points at it. */
  async deleteOrg(id: string): Promise<void> {
    try {
      await this.db.tx.getRepository(Org).delete({ id });
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string })?.code === '23503') {
        throw new StillReferencedError(err.message);
      }
      throw err;
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

  /**
   * One recursive query: the parties on each side — the requester and the minters of the key the job was submitted
   * with (and of the keys that minted it), the approver and the minters of the approver's key — then every account
   * in the requester's side's chains of creation, up and down, depth-bounded. An admin's creations and keys tie no
   * one (an admin may mint a key for anyone anyway), so links from an admin are not followed. Returns each tie
   * found between the two sides.
   */
  async independenceConflicts(
    requester: { userId: string; keyId: string | null; keyMintedBy: string | null },
    approver: { userId: string; keyId: string | null },
  ): Promise<IndependenceConflict[]> {
    const rows = await this.db.tx.query<{ approver_side: string; requester_side: string; dir: string }[]>(
      `WITH RECURSIVE
       key_chain(side, key_id, depth) AS (
         SELECT s.side, s.key_id, 0 FROM (VALUES ('requester', $2::uuid), ('approver', $5::uuid)) AS s(side, key_id)
          WHERE s.key_id IS NOT NULL
         UNION
         SELECT c.side, k.created_by_key, c.depth + 1 FROM key_chain c JOIN api_keys k ON k.id = c.key_id
          WHERE k.created_by_key IS NOT NULL AND c.depth < $6
       ),
       minted(side, user_id) AS (
         SELECT 'requester', $3::uuid WHERE $3::uuid IS NOT NULL
         UNION
         SELECT c.side, k.created_by FROM key_chain c JOIN api_keys k ON k.id = c.key_id WHERE k.created_by IS NOT NULL
       ),
       party(side, role, user_id) AS (
         SELECT 'requester', 'requester', $1::uuid
         UNION SELECT 'approver', 'approver', $4::uuid
         UNION SELECT m.side, CASE m.side WHEN 'requester' THEN 'key_minter' ELSE 'approver_key_minter' END, m.user_id
                 FROM minted m JOIN users u ON u.id = m.user_id WHERE u.level <> 'admin'
       ),
       walk(user_id, origin, dir, depth) AS (
         SELECT user_id, role, 'self', 0 FROM party WHERE side = 'requester'
         UNION
         SELECT n.user_id, w.origin, n.dir, w.depth + 1
           FROM walk w
           CROSS JOIN LATERAL (
             SELECT u.created_by AS user_id, 'up' AS dir FROM users u JOIN users p ON p.id = u.created_by
              WHERE w.dir IN ('self', 'up') AND u.id = w.user_id AND p.level <> 'admin'
             UNION ALL
             SELECT u.id, 'down' FROM users u JOIN users p ON p.id = u.created_by
              WHERE w.dir IN ('self', 'down') AND u.created_by = w.user_id AND p.level <> 'admin'
           ) n
          WHERE w.depth < $6
       )
       SELECT DISTINCT a.role AS approver_side, w.origin AS requester_side, w.dir
         FROM walk w JOIN party a ON a.side = 'approver' AND a.user_id = w.user_id`,
      [requester.userId, requester.keyId, requester.keyMintedBy, approver.userId, approver.keyId, MAX_CHAIN_DEPTH],
    );
    const relation = { self: 'self', up: 'ancestor', down: 'descendant' } as const;
    return rows.map((r) => ({
      approverSide: r.approver_side as IndependenceConflict['approverSide'],
      requesterSide: r.requester_side as IndependenceConflict['requesterSide'],
      relation: relation[r.dir as keyof typeof relation],
    }));
  }

  /** Serialises the first-boot admin creation across instances until the transaction ends. */
  lockBootstrap(key: number): Promise<void> {
    return lockUntilCommit(this.db.tx, key);
  }
}
