import { DataSource, MigrationExecutor } from 'typeorm';

/** Advisory-lock key for boot migrations: an arbitrary constant shared by every instance. */
const MIGRATION_LOCK_KEY = 734_001_001;

/**
 * Runs pending migrations while holding a session advisory lock on the same connection, so several
 * instances booting together migrate once and the others wait, then find nothing to do. The executor
 * shares the lock's query runner: with PGlite's pool of one, a second connection would deadlock.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const ran = await executor.executePendingMigrations();
      return ran.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** Names of migrations known to the code but not applied to the database. */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    const executor = new MigrationExecutor(dataSource, runner);
    const pending = await executor.getPendingMigrations();
    return pending.map((m) => m.name);
  } finally {
    await runner.release();
  }
}
