import * as fs from 'node:fs';
import * as path from 'node:path';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { Transactional } from '../database/transactional';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { API_KEY_PATTERN, apiKeyPrefix, generateApiKey, hashApiKey } from './api-key.util';
import type { AuthenticatedUser } from './authenticated-user';
import type { User } from './user.entity';
import { NotificationListener } from '../database/notification-listener';
import { AuthChanges } from './auth-changes.service';
import { KEY_CACHE_FALLBACK_TTL_MS, KEY_CACHE_TTL_MS, VerifiedKeyCache } from './key-cache';
import { UsersRepository } from './users.repository';

const log = getLogger('simpletuner.cloud.auth');
const BOOTSTRAP_LOCK_KEY = 734_001_002;

@Injectable()
export class AuthService implements OnModuleInit {
  private readonly cache = new VerifiedKeyCache();
  /** When each key's use was last written (at most once a minute per key). */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly repo: UsersRepository,
    private readonly config: AppConfig,
    private readonly changes: AuthChanges,
    private readonly notifications: NotificationListener,
  ) {}

  onModuleInit(): void {
    this.changes.onChange((change) => {
      if (!change.sessionId) this.cache.forget(change.userId, change.keyId);
    });
  }

  /**
   * Resolves an API key to its user; null when unknown, revoked, expired or the user is inactive. A key verified
   * recently is answered from memory (no database round trip); authority changes evict it on every instance.
   */
  async authenticate(key: string, now = new Date()): Promise<AuthenticatedUser | null> {
    if (!API_KEY_PATTERN.test(key)) return null;
    const hash = hashApiKey(key);
    const at = now.getTime();
    // On PGlite changes are announced in-process; on PostgreSQL only while the listening connection is up.
    const announced = this.config.embeddedDatabase || this.notifications.backendPid !== null;
    const cached = this.cache.get(hash, at, announced ? KEY_CACHE_TTL_MS : KEY_CACHE_FALLBACK_TTL_MS);
    if (cached) {
      if (cached.apiKeyId) this.touch(cached.apiKeyId, at);
      return cached;
    }
    const found = await this.repo.keyWithUser(hash);
    if (!found) return null;
    const { key: row, user } = found;
    if (row.revokedAt || !user.isActive) return null;
    if (row.expiresAt && row.expiresAt <= now) return null;
    if (row.lastUsedAt) this.touched.set(row.id, Math.max(this.touched.get(row.id) ?? 0, row.lastUsedAt.getTime()));
    this.touch(row.id, at);
    const authenticated: AuthenticatedUser = {
      id: user.id,
      username: user.username,
      level: user.level,
      orgId: user.orgId,
      apiKeyId: row.id,
      keyExpiresAt: row.expiresAt,
      keyCreatedBy: row.createdBy,
      userCreatedBy: user.createdBy,
    };
    this.cache.set(hash, authenticated, at);
    return authenticated;
  }

  /** Records a key's use at most once a minute, off the request's path. */
  private touch(keyId: string, at: number): void {
    if (at - (this.touched.get(keyId) ?? 0) < 60_000) return;
    this.touched.set(keyId, at);
    if (this.touched.size > 10_000) this.touched.delete(this.touched.keys().next().value!);
    this.repo.touchKey(keyId).catch((error: unknown) => log.debug('Recording a key use failed', { error }));
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
   * With no user at all, create an admin and a key. Serialised by an advisory lock so that
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
