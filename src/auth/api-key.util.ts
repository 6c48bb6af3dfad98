import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const API_KEY_PATTERN = /^st_[A-Za-z0-9]{32}$/;

export function generateApiKey(): string {
  let key = 'st_';
  for (let i = 0; i < 32; i++) key += ALPHABET[randomInt(ALPHABET.length)];
  return key;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The 11-character display prefix (`st_` + 8) that identifies a key without revealing it. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 11);
}

/** Whether two secrets (tokens, `state`) are equal, in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
