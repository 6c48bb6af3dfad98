import * as fs from 'node:fs';
import * as path from 'node:path';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { ApiKey } from './api-key.entity';
import { API_KEY_PATTERN, apiKeyPrefix, generateApiKey, hashApiKey } from './api-key.util';
import type { AuthenticatedUser } from './authenticated-user';
import { Org } from './org.entity';
import { User } from './user.entity';

const log = getLogger('simpletuner.cloud.auth');
const BOOTSTRAP_LOCK_KEY = 734_001_002;

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  /** Resolves an API key to its user; null when unknown, revoked, expired or the user is inactive. */
  async authenticate(key: string, now = new Date()): Promise<AuthenticatedUser | null> {
    if (!API_KEY_PATTERN.test(key)) return null;
    const row = await this.db
      .getRepository(ApiKey)
      .createQueryBuilder('k')
      .innerJoinAndMapOne('k.user', User, 'u', 'u.id = k.user_id')
      .where('k.key_hash = :hash', { hash: hashApiKey(key) })
      .getOne();
    const user = (row as (ApiKey & { user?: User }) | null)?.user;
    if (!row || !user || row.revokedAt || !user.isActive) return null;
    if (row.expiresAt && row.expiresAt <= now) return null;
    return { id: user.id, username: user.username, level: user.level, orgId: user.orgId, apiKeyId: row.id };
  }

  /** Stores a new key for a user and returns it; the plain key exists only in this return value. */
  async issueKey(
    userId: string,
    opts: { name?: string | null; expiresAt?: Date | null } = {},
    plainKey = generateApiKey(),
  ) {
    const saved = await this.db.getRepository(ApiKey).save({
      userId,
      name: opts.name ?? null,
      keyHash: hashApiKey(plainKey),
      keyPrefix: apiKeyPrefix(plainKey),
      expiresAt: opts.expiresAt ?? null,
    });
    return { apiKey: saved, key: plainKey };
  }

  /**
   * SPEC §3: with no user at all, create an admin and a key. Serialised by an advisory lock so that
   * instances booting together create one admin.
   */
  async bootstrapAdmin(): Promise<void> {
    const configuredKey = this.config.env.SIMPLETUNER_ADMIN_API_KEY;
    const created = await this.db.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK_KEY]);
      if ((await em.getRepository(User).count()) > 0) return null;
      let org = await em.getRepository(Org).findOneBy({ name: 'default' });
      org ??= await em.getRepository(Org).save({ name: 'default' });
      const user = await em
        .getRepository(User)
        .save({ username: 'admin', email: null, level: 'admin', orgId: org.id, isActive: true });
      const key = configuredKey ?? generateApiKey();
      await em.getRepository(ApiKey).save({
        userId: user.id,
        name: 'bootstrap',
        keyHash: hashApiKey(key),
        keyPrefix: apiKeyPrefix(key),
        expiresAt: null,
      });
      return { key, user };
    });
    if (!created) return;
    if (configuredKey) {
      log.info('Created bootstrap admin user with the key from SIMPLETUNER_ADMIN_API_KEY', {
        user_id: created.user.id,
      });
      return;
    }
    const keyFile = path.join(this.config.dataDir, 'admin-api-key');
    fs.mkdirSync(this.config.dataDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(keyFile, `${created.key}\n`, { mode: 0o600 });
    fs.chmodSync(keyFile, 0o600);
    log.info(`Created bootstrap admin user; its API key is in ${keyFile}`, {
      user_id: created.user.id,
      key_file: keyFile,
    });
  }
}
