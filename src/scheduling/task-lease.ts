import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * Jitter allowance for leases: a tick fires a little late and the stamp includes query latency, so the same
 * instance's next tick can land a few ms short of a full interval after its previous stamp. Without slack it
 * would lose its own lease and the interval would be skipped. Runs stay at least interval − slack apart.
 */
export function leaseSlackSeconds(intervalSeconds: number): number {
  return Math.min(intervalSeconds * 0.2, 2);
}

/**
 * One winner per interval across instances (SPEC §10): the lease row's last_run_at moves forward only when a
 * full interval has passed. Insert-or-update in one statement, so two first-ever claims still have one winner.
 * `now` defaults to the database clock, shared by every instance.
 */
export async function tryAcquireLease(
  db: DataSource | EntityManager,
  task: string,
  intervalSeconds: number,
  now?: Date,
  holder: string | null = null,
): Promise<boolean> {
  const window = Math.max(0, intervalSeconds - leaseSlackSeconds(intervalSeconds));
  const rows: unknown[] = await db.query(
    `INSERT INTO task_leases AS l (task, last_run_at, holder)
     VALUES ($1, COALESCE($2::timestamptz, now()), $3)
     ON CONFLICT (task) DO UPDATE SET last_run_at = EXCLUDED.last_run_at, holder = EXCLUDED.holder
       WHERE l.last_run_at <= EXCLUDED.last_run_at - make_interval(secs => $4)
     RETURNING l.task`,
    [task, now ?? null, holder, window],
  );
  return rows.length === 1;
}

/** A signed 64-bit key for pg_advisory_xact_lock, stable across processes and versions. */
export function advisoryKey(key: string | number): string {
  if (typeof key === 'number') {
    if (!Number.isSafeInteger(key)) throw new Error(`Advisory lock key must be an integer, got ${key}`);
    return String(key);
  }
  return createHash('sha256').update(key).digest().readBigInt64BE(0).toString();
}

/**
 * Serialises a claim across instances until the caller's transaction ends. Transaction-scoped on purpose: no
 * session state survives behind a pooler, and a forgotten unlock cannot exist. On PGlite (one session) it is
 * re-entrant and the pool of one already serialises, so it trivially succeeds.
 */
export async function withAdvisoryXactLock(manager: EntityManager, key: string | number): Promise<void> {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('withAdvisoryXactLock needs an EntityManager inside a transaction (dataSource.transaction(...))');
  }
  await manager.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(key)]);
}
