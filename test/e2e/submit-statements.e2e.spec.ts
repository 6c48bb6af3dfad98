import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { generateApiKey } from '../../src/auth/api-key.util';
import { peekCorrelationId } from '../../src/context';
import { EXPENSIVE, makeOrg, makeUser, setRuleActive } from '../support/approval-fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/**
 * The SQL issued under one correlation id (one request's) on this process's connections: background ticks of the
 * same process run under ids of their own and are left out.
 */
async function statementsOf(correlationId: string, fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  type Query = (this: PostgresQueryRunner, ...args: Parameters<PostgresQueryRunner['query']>) => Promise<unknown>;
  const original = Object.getOwnPropertyDescriptor(PostgresQueryRunner.prototype, 'query')!.value as Query;
  const query = jest.spyOn(PostgresQueryRunner.prototype, 'query').mockImplementation(function (
    this: PostgresQueryRunner,
    ...args: Parameters<PostgresQueryRunner['query']>
  ) {
    if (peekCorrelationId() === correlationId) seen.push(String(args[0]).replace(/\s+/g, ' ').trim());
    return original.apply(this, args);
  });
  try {
    await fn();
    return seen;
  } finally {
    query.mockRestore();
  }
}

/**
 * A submit is one read and one write (two more, BEGIN and COMMIT, with an idempotency key); the approval rules and
 * provider settings it needs come from memory, and a change of them on one instance reaches the next submit on
 * every instance.
 */
describe('submit statements and cached settings (two instances on PostgreSQL)', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    // No queue tick during a submit (it would be woken after the commit): only the submit's own SQL is counted.
    const env = {
      SIMPLETUNER_ADMIN_API_KEY: generateApiKey(),
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_QUEUE_WAKE_ON_RELEASE: 'false',
      // The submit rate limit adds one statement of its own before the submit (its per-key counter, shared by the
      // instances; tested in rate-limits.e2e): off here, so the count is the submit's.
      SIMPLETUNER_RATE_LIMIT_SUBMIT_PER_MINUTE: '0',
    };
    for (let i = 0; i < 2; i++) apps.push(await startTestApp({ database, env }));
  });
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await database?.drop();
  });

  const submit = (app: TestApp, key: string, extra: Record<string, unknown> = {}, correlationId?: string) =>
    http(app.url, 'POST', '/api/cloud/jobs/submit', {
      key,
      body: { config_name: 'stmt', config: {}, provider: 'simulator', ...extra },
      headers: correlationId ? { 'X-Correlation-ID': correlationId } : {},
    });

  it('submits in two statements, four with an idempotency key', async () => {
    const org = await makeOrg(apps[0], 'stmt-org');
    const u = await makeUser(apps[0], 'stmt-user', 'lead', org);
    expect((await submit(apps[0], u.key)).status).toBe(201); // warms the key and settings caches
    let res: Awaited<ReturnType<typeof submit>> | undefined;
    const plain = await statementsOf('stmt-plain', async () => {
      res = await submit(apps[0], u.key, {}, 'stmt-plain');
    });
    expect(res!.status).toBe(201);
    expect(res!.body.queue_position).toBeGreaterThanOrEqual(1);
    expect(plain).toHaveLength(2);
    expect(plain[1]).toMatch(/^WITH "job" AS \(INSERT INTO jobs/);

    const keyed = await statementsOf('stmt-keyed', async () => {
      res = await submit(apps[0], u.key, { idempotency_key: 'stmt-1' }, 'stmt-keyed');
    });
    expect(res!.status).toBe(201);
    expect(keyed).toHaveLength(4);
    expect(keyed.slice(1)).toEqual(['START TRANSACTION', expect.stringMatching(/^WITH "job" AS/), 'COMMIT']);
  });

  it('a rule changed on one instance holds (or stops holding) the next submit on the other', async () => {
    const org = await makeOrg(apps[0], 'rule-org');
    const lead = await makeUser(apps[0], 'rule-lead', 'lead', org);
    // Both instances hold the active rules: an expensive job waits for approval.
    for (const app of apps) expect((await submit(app, lead.key, EXPENSIVE)).body.requires_approval).toBe(true);

    await setRuleActive(apps[0], 'High Cost Jobs', false);
    expect(await heldWithin(apps[1], lead.key, false)).toBe(false);
    await setRuleActive(apps[1], 'High Cost Jobs', true);
    expect(await heldWithin(apps[0], lead.key, true)).toBe(true);
  });

  /**
   * Whether an expensive submit is held, asked until it is `expected` or a second has passed: the change is announced
   * by NOTIFY, which reaches the other instance a moment after the commit.
   */
  async function heldWithin(app: TestApp, key: string, expected: boolean): Promise<boolean> {
    const until = Date.now() + 1000;
    for (;;) {
      const res = await submit(app, key, EXPENSIVE);
      expect(res.status).toBe(201);
      if (res.body.requires_approval === expected || Date.now() > until) return res.body.requires_approval as boolean;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
});
