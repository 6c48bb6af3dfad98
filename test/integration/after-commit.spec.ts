import { AfterCommit } from '../../src/database/after-commit';
import { Db } from '../../src/database/transaction-host';
import { ServiceModule, startServiceModule } from '../support/service-module';

/**
 * After-commit callbacks run once the transaction committed, never after a rollback, and outside the finished
 * transaction: what they start (a woken stream's next read) queries through a connection of its own, not the
 * committed transaction's, which is back in the pool.
 */
describe('AfterCommit (PostgreSQL)', () => {
  let services: ServiceModule;
  let db: Db;
  let afterCommit: AfterCommit;

  beforeAll(async () => {
    services = await startServiceModule({ env: { SIMPLETUNER_QUEUE_INTERVAL: '3600' } });
    db = services.get(Db);
    afterCommit = services.get(AfterCommit);
  });
  afterAll(async () => {
    await services?.close();
  });

  const backend = async () => (await db.tx.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid'))[0].pid;

  it('runs after the commit, outside the committed transaction, and its reads use their own connection', async () => {
    const seen: { active: boolean; read?: Promise<number> }[] = [];
    let inside = 0;
    await db.withTransaction(async () => {
      inside = await backend();
      afterCommit.run(() => {
        expect(seen).toEqual([]);
        seen.push({ active: db.isTransactionActive(), read: backend() });
      });
      expect(seen).toEqual([]); // not before the commit
    });
    expect(seen.map((s) => s.active)).toEqual([false]);
    // The read the callback started got a connection from the pool like any other: it is not pinned to the
    // committed transaction's, nor does it fail for running on a released one.
    await expect(seen[0].read).resolves.toEqual(expect.any(Number));
    expect(inside).toBeGreaterThan(0);
  });

  it('never runs after a rollback', async () => {
    let ran = false;
    await expect(
      db.withTransaction(async () => {
        afterCommit.run(() => (ran = true));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(ran).toBe(false);
  });
});
