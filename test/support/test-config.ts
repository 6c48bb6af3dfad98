import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateApiKey } from '../../src/auth/api-key.util';
import { AppConfig, loadAppConfig } from '../../src/config';
import { seedMigratedPglite } from './pglite-template';
import { createTestDatabase, TestDatabase } from './test-database';

/** Where a test's app (or service module) keeps its data, and the settings it runs with. */
export interface TestConfigOptions {
  /**
   * 'postgres' (default): a fresh clone of the template; 'pglite': the embedded database in a temp folder, copied
   * from the run's migrated one unless the test brings its own `dataDir`.
   */
  db?: 'postgres' | 'pglite';
  /** Reuse an existing database (several instances on one database). */
  database?: TestDatabase;
  env?: Record<string, string>;
  dataDir?: string;
}

/** A test's configuration with the database and data folder it made, which `cleanUp` removes again. */
export interface TestConfig {
  config: AppConfig;
  adminKey: string;
  dataDir: string;
  database: TestDatabase | null;
  cleanUp(): Promise<void>;
}

export function makeTempDir(prefix = 'st-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The configuration a test runs the app with: its own database clone and data folder, logging at ERROR. */
export async function makeTestConfig(opts: TestConfigOptions = {}): Promise<TestConfig> {
  const dataDir = opts.dataDir ?? makeTempDir();
  const ownsDatabase = !opts.database && (opts.db ?? 'postgres') === 'postgres';
  const database = opts.database ?? (ownsDatabase ? await createTestDatabase() : null);
  if (!opts.database && opts.db === 'pglite' && !opts.dataDir) await seedMigratedPglite(dataDir);
  const adminKey = opts.env?.SIMPLETUNER_ADMIN_API_KEY ?? generateApiKey();
  const env: Record<string, string> = {
    SIMPLETUNER_DATA_DIR: dataDir,
    SIMPLETUNER_LOG_LEVEL: 'ERROR',
    SIMPLETUNER_ENTERPRISE_CONFIG: '',
    SIMPLETUNER_ADMIN_API_KEY: adminKey,
    HOST: '127.0.0.1',
    // Tests make many requests and submits with one key within a minute: limits high enough never to refuse them
    // (the rate-limit tests set their own, low ones).
    SIMPLETUNER_RATE_LIMIT_PER_MINUTE: '1000000',
    SIMPLETUNER_RATE_LIMIT_SUBMIT_PER_MINUTE: '1000000',
    SIMPLETUNER_RATE_LIMIT_UPLOADS_PER_MINUTE: '1000000',
    SIMPLETUNER_RATE_LIMIT_WEBHOOKS_PER_MINUTE: '1000000',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...opts.env,
  };
  return {
    config: loadAppConfig(env, dataDir),
    adminKey,
    dataDir,
    database,
    async cleanUp() {
      if (ownsDatabase) await database?.drop();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
