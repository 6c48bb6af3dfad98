import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { runMigrationsLocked } from '../../src/database/migration-runner';
import {
  assertTestDatabase,
  databaseUrl,
  newRunId,
  runDatabasePattern,
  TEST_DATABASE_URL,
  templateName,
  withAdminClient,
} from './test-database';

const STALE_AFTER_SECONDS = 3 * 3600;

/** Builds the migrated template that this run's test files clone, and removes databases of long-dead runs. */
export default async function globalSetup(): Promise<void> {
  assertTestDatabase(TEST_DATABASE_URL);
  process.env.ST_TEST_RUN_ID = newRunId(); // inherited by the workers jest spawns after this
  const template = templateName();
  await withAdminClient(async (c) => {
    const pattern = runDatabasePattern();
    const all = await c.query<{ datname: string }>(`SELECT datname FROM pg_database`);
    const now = Date.now() / 1000;
    for (const { datname } of all.rows) {
      const m = pattern.exec(datname);
      if (m && now - Number(m[1]) > STALE_AFTER_SECONDS)
        await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    await c.query(`CREATE DATABASE "${template}"`);
  });
  const ds = new DataSource(buildDataSourceOptions({ kind: 'postgres', url: databaseUrl(template), poolSize: 1 }));
  await ds.initialize();
  try {
    await runMigrationsLocked(ds);
  } finally {
    await ds.destroy();
  }
}
