import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { runMigrationsLocked } from '../../src/database/migration-runner';
import { RateBudgetRepository } from '../../src/providers/rate-budget.repository';
import { bucketFor, BudgetExhaustedError, SharedRateBudget } from '../../src/providers/shared-rate-budget';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/** Most calls seen in any `windowMs` (closed window starting at each call). */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j] <= sorted[i] + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe('shared rate budget', () => {
  it('shapes a limit into a bucket that keeps any window at 90% of it', () => {
    expect(bucketFor({ limit: 600, windowSeconds: 60 })).toEqual({ capacity: 60, perSecond: 8 });
    const small = bucketFor({ limit: 20, windowSeconds: 2 });
    expect(small.capacity + small.perSecond * 2).toBeCloseTo(18);
  });

  describe('three instances on one PostgreSQL', () => {
    let db: TestDatabase;
    const sources: DataSource[] = [];

    beforeAll(async () => {
      db = await createTestDatabase();
      for (let i = 0; i < 3; i++) {
        sources.push(
          await new DataSource(buildDataSourceOptions({ kind: 'postgres', url: db.url, poolSize: 4 })).initialize(),
        );
      }
      await runMigrationsLocked(sources[0]);
    });
    afterAll(async () => {
      await Promise.all(sources.map((s) => s.destroy()));
      await db?.drop();
    });

    it('never lets them together exceed the budget in any window', async () => {
      const limits = { create: { limit: 20, windowSeconds: 2 }, call: { limit: 1000, windowSeconds: 2 } };
      const budgets = sources.map((s) => new SharedRateBudget(new RateBudgetRepository(s), 'test', limits));
      const grants: number[] = [];
      const until = Date.now() + 5000;
      // Each instance runs four eager callers.
      await Promise.all(
        budgets.flatMap((budget) =>
          Array.from({ length: 4 }, async () => {
            while (Date.now() < until) {
              await budget.acquire('create');
              grants.push(Date.now());
            }
          }),
        ),
      );
      expect(busiestWindow(grants, 2000)).toBeLessThanOrEqual(20);
      // And the budget is used, not withheld: 2 at once, then 8 a second (callers in flight at the end finish late).
      const seconds = (Math.max(...grants) - Math.min(...grants)) / 1000;
      expect(seconds).toBeGreaterThan(4);
      expect(grants.length).toBeGreaterThanOrEqual(Math.floor(2 + 8 * seconds * 0.9));
      expect(grants.length).toBeLessThanOrEqual(Math.ceil(2 + 8 * seconds) + 1);
    });

    it('gives up (retryable, nothing sent) instead of waiting past its bound', async () => {
      const budget = new SharedRateBudget(new RateBudgetRepository(sources[1]), 'slow', {
        create: { limit: 10, windowSeconds: 3600 },
        call: { limit: 10, windowSeconds: 3600 },
      });
      await budget.acquire('create'); // the one token a bucket of 10/hour starts with
      await expect(budget.acquire('create')).rejects.toBeInstanceOf(BudgetExhaustedError);
    });
  });
});
