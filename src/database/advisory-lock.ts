import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';

/** A signed 64-bit key for pg_advisory_xact_lock, stable across processes and versions. */
export function advisoryKey(key: string | number): string {
  if (typeof key === 'number') {
    if (!Number.isSafeInteger(key)) throw new Error(`Advisory lock key must be an integer, got ${key}`);
    return String(key);
  }
  return createHash('sha256').update(key).digest().readBigInt64BE(0).toString();
}

/**
 * Serialises work across instances until the current transaction ends. Transaction-scoped on purpose: no session
 * state survives behind a pooler, and a forgotten unlock cannot exist. On PGlite (one session) it is re-entrant and
 * the pool of one already serialises, so it trivially succeeds. The one advisory-lock helper of the project (the
 * exceptions: the migration runner's session lock, as migrations run outside a transaction, and the queue's claim
 * and LockedWrites (the submit under quotas), which send their transaction-level locks in one message with the
 * statements they guard).
 */
export async function lockUntilCommit(tx: EntityManager, key: string | number): Promise<void> {
  if (!tx.queryRunner?.isTransactionActive) {
    throw new Error('lockUntilCommit needs an open transaction (call it from a @Transactional() unit of work)');
  }
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(key)]);
}
