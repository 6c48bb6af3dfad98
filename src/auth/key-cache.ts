import type { AuthenticatedUser } from './authenticated-user';

/** How long a verified key is trusted while authority changes are being announced to this instance. */
export const KEY_CACHE_TTL_MS = 5 * 60_000;
/** ...and while they are not (the notification connection is down): a revocation is then seen this late at most. */
export const KEY_CACHE_FALLBACK_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  user: AuthenticatedUser;
  verifiedAt: number;
}

/**
 * Keys verified recently, by hash, so that a request with a known key costs no database round trip. Entries go
 * when an authority change names their key or user (announced on every instance at once), when they expire, or
 * after a TTL: long while changes are announced, short while the announcement channel is down.
 */
export class VerifiedKeyCache {
  private readonly byHash = new Map<string, Entry>();

  get(hash: string, now: number, maxAgeMs: number): AuthenticatedUser | null {
    const entry = this.byHash.get(hash);
    if (!entry) return null;
    const expired = entry.user.keyExpiresAt && entry.user.keyExpiresAt.getTime() <= now;
    if (expired || now - entry.verifiedAt > maxAgeMs) {
      this.byHash.delete(hash);
      return null;
    }
    return entry.user;
  }

  set(hash: string, user: AuthenticatedUser, now: number): void {
    this.byHash.delete(hash); // re-inserted last: the map's order is the eviction order
    this.byHash.set(hash, { user, verifiedAt: now });
    if (this.byHash.size > MAX_ENTRIES) this.byHash.delete(this.byHash.keys().next().value!);
  }

  /** Forgets the user's keys, or only `keyId`. */
  forget(userId: string, keyId?: string): void {
    for (const [hash, entry] of this.byHash) {
      if (entry.user.id === userId && (!keyId || entry.user.apiKeyId === keyId)) this.byHash.delete(hash);
    }
  }

  get size(): number {
    return this.byHash.size;
  }
}
