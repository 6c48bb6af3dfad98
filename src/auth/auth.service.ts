import * as fs from 'node:fs';
import * as path from 'node:path';
import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { Transactional } from '../database/transactional';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { API_KEY_PATTERN, apiKeyPrefix, generateApiKey, hashApiKey } from './api-key.util';
import type { AuthenticatedUser } from './authenticated-user';
import type { User } from './user.entity';
import { UsersRepository } from './users.repository';

const log = getLogger('simpletuner.cloud.auth');
const BOOTSTRAP_LOCK_KEY = 734_001_002;

@Injectable()
export class AuthService {
  constructor(
    /** Carries @Transactional()'s transaction. */
    private readonly txHost: TransactionHost,
    private readonly repo: UsersRepository,
    private readonly config: AppConfig,
  ) {}

  /** Resolves an API key to its user; null when unknown, revoked, expired or the user is inactive. */
  async authenticate(key: string, now = new Date()): Promise<AuthenticatedUser | null> {
    if (!API_KEY_PATTERN.test(key)) return null;
    const found = await this.repo.keyWithUser(hashApiKey(key));
    if (!found) return null;
    const { key: row, user } = found;
    if (row.revokedAt || !user.isActive) return null;
    if (row.expiresAt && row.expiresAt <= now) return null;
    // A use is recorded at most once a minute per key, off the request's path.
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
      this.repo.touchKey(row.id).catch((error: unknown) => log.debug('Recording a key use failed', { error }));
    }
    return {
      id: user.id,
      username: user.username,
      level: user.level,
      orgId: user.orgId,
      apiKeyId: row.id,
      keyExpiresAt: row.expiresAt,
      keyCreatedBy: row.createdBy,
      userCreatedBy: user.createdBy,
    };
  }

  /** For each of these keys still valid now: its user's current organisation and level. */
  validKeys(ids: string[]): Promise<Map<string, { userId: string; orgId: string; level: string }>> {
    return this.repo.validKeys(ids);
  }

  /** Stores a new key for a user and returns it; the plain key exists only in this return value. */
  async issueKey(
    userId: string,
    opts: {
      name?: string | null;
      expiresAt?: Date | null;
      createdBy?: string | null;
      createdByKey?: string | null;
    } = {},
    plainKey = generateApiKey(),
  ) {
    const saved = await this.repo.saveKey({
      userId,
      name: opts.name ?? null,
      keyHash: hashApiKey(plainKey),
      keyPrefix: apiKeyPrefix(plainKey),
      expiresAt: opts.expiresAt ?? null,
      createdBy: opts.createdBy ?? null,
      createdByKey: opts.createdByKey ?? null,
    });
    return { apiKey: saved, key: plainKey };
  }

  /**
   * SPEC §3: with no user at all, create an admin and a key. Serialised by an advisory lock so that
   * instances booting together create one admin.
   */
  async bootstrapAdmin(): Promise<void> {
    const configuredKey = this.config.env.SIMPLETUNER_ADMIN_API_KEY;
    const created = await this.createFirstAdmin(configuredKey ?? generateApiKey());
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

  /** With no user at all: the default organisation, an admin and its key; null when users exist already. */
  @Transactional()
  private async createFirstAdmin(key: string): Promise<{ key: string; user: User } | null> {
    await this.repo.lockBootstrap(BOOTSTRAP_LOCK_KEY);
    if ((await this.repo.countUsers()) > 0) return null;
    const org = (await this.repo.findOrgByName('default')) ?? (await this.repo.saveOrg({ name: 'default' }));
    const user = await this.repo.saveUser({
      username: 'admin',
      email: null,
      level: 'admin',
      orgId: org.id,
      isActive: true,
    });
    await this.repo.saveKey({
      userId: user.id,
      name: 'bootstrap',
      keyHash: hashApiKey(key),
      keyPrefix: apiKeyPrefix(key),
      expiresAt: null,
    });
    return { key, user };
  }
}
