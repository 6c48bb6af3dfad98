import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The suite only ever touches databases whose name contains "test", so a run never wipes real data. */
export function assertTestDatabase(url: string): URL {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!name.includes('test')) {
    throw new Error(`Refusing to run tests against database "${name}": its name must contain "test"`);
  }
  return parsed;
}

export function databaseUrl(name: string): string {
  const url = assertTestDatabase(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function baseName(): string {
  return decodeURIComponent(assertTestDatabase(TEST_DATABASE_URL).pathname.slice(1));
}

/**
 * Databases of one run share a prefix holding its start time, so concurrent runs never drop each other's
 * databases and a later run can remove what a killed run left behind.
 */
export function runPrefix(): string {
  const run = process.env.ST_TEST_RUN_ID;
  if (!run) throw new Error('ST_TEST_RUN_ID is not set: run the tests through jest (global-setup sets it)');
  return `${baseName()}_st_${run}`;
}

export function newRunId(now = Date.now()): string {
  return `${Math.floor(now / 1000)}_${randomBytes(3).toString('hex')}`;
}

/** Matches every database made by any run, capturing its start time in seconds. */
export function runDatabasePattern(): RegExp {
  return new RegExp(`^${baseName()}_st_(\\d+)_[0-9a-f]{6}`);
}

export function templateName(): string {
  return `${runPrefix()}_tpl`;
}

export async function withAdminClient<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh database for one test file, cloned from the migrated template (made by global-setup). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${runPrefix()}_${randomBytes(4).toString('hex')}`;
  await withAdminClient(async (c) => {
    // CREATE DATABASE ... TEMPLATE fails while another session is connected to the template; retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE "${name}" TEMPLATE "${templateName()}"`);
        return;
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  return {
    name,
    url: databaseUrl(name),
    drop: () => withAdminClient(async (c) => void (await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}
