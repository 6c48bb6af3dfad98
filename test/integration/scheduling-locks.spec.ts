import { DataSource, EntityManager } from 'typeorm';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { lockUntilCommit } from '../../src/database/advisory-lock';
import { TaskLeaseRepository } from '../../src/scheduling';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two pools = two "instances" on one PostgreSQL. */
describe('lease rows and advisory transaction locks (PostgreSQL)', () => {
  let db: TestDatabase;
  let a: DataSource;
  let b: DataSource;
  /** A claim as the lease repository of an instance on `ds` makes it. */
  const tryAcquireLease = (ds: DataSource, task: string, seconds: number, now: Date, holder?: string) =>
    new TaskLeaseRepository(ds).tryAcquire(task, seconds, { now, holder });

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await new DataSource(buildDataSourceOptions({ kind: 'postgres', url: db.url, poolSize: 5 })).initialize();
    b = await new DataSource(buildDataSourceOptions({ kind: 'postgres', url: db.url, poolSize: 5 })).initialize();
    await a.query(`CREATE TABLE claims (slot text NOT NULL, claimed_by text NOT NULL)`);
  });
  afterAll(async () => {
    await a?.destroy();
    await b?.destroy();
    await db?.drop();
  });

  it('gives one winner per interval, measured from the last winning run', async () => {
    const t0 = new Date('2030-01-01T00:00:00Z');
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    expect(await tryAcquireLease(a, 'poll', 30, at(0))).toBe(true);
    expect(await tryAcquireLease(b, 'poll', 30, at(0))).toBe(false);
    expect(await tryAcquireLease(b, 'poll', 30, at(15))).toBe(false);
    expect(await tryAcquireLease(b, 'poll', 30, at(30))).toBe(true);
    expect(await tryAcquireLease(a, 'poll', 30, at(31))).toBe(false);
    // Another task has its own row.
    expect(await tryAcquireLease(a, 'expire', 30, at(31))).toBe(true);
    const [row] = await a.query(`SELECT last_run_at FROM task_leases WHERE task = 'poll'`);
    expect(new Date(row.last_run_at).toISOString()).toBe(at(30).toISOString());
  });

  it('has exactly one winner when many instances claim a fresh task at the same moment', async () => {
    const now = new Date('2030-02-01T00:00:00Z');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => tryAcquireLease(i % 2 ? a : b, 'fresh_task', 5, now, `i${i}`)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  async function claimOnce(ds: DataSource, who: string, lock: boolean): Promise<void> {
    await ds.transaction(async (m: EntityManager) => {
      if (lock) await lockUntilCommit(m, 'claim:slot-1');
      const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM claims WHERE slot = 'slot-1'`);
      await sleep(150); // the gap in which an unserialised second claimer sees the same free slot
      if (n === 0) await m.query(`INSERT INTO claims (slot, claimed_by) VALUES ('slot-1', $1)`, [who]);
    });
  }

  it('serialises claims across instances with pg_advisory_xact_lock (and shows the race without it)', async () => {
    await Promise.all([claimOnce(a, 'a', false), claimOnce(b, 'b', false)]);
    expect((await a.query(`SELECT * FROM claims`)).length).toBe(2); // the race the lock exists for
    await a.query(`DELETE FROM claims`);
    await Promise.all([claimOnce(a, 'a', true), claimOnce(b, 'b', true), claimOnce(a, 'a2', true)]);
    expect((await a.query(`SELECT * FROM claims`)).length).toBe(1);
    // The lock ends with the transaction: nothing is left held in any session.
    const held = await a.query(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(held[0].n).toBe(0);
  });

  it('refuses to take a transaction lock outside a transaction', async () => {
    await expect(lockUntilCommit(a.manager, 'x')).rejects.toThrow(/needs an open transaction/);
  });
});
