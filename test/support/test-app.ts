import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApp, CreateAppOptions, RunningApp } from '../../src/app.factory';
import { generateApiKey } from '../../src/auth/api-key.util';
import { loadAppConfig } from '../../src/config';
import { createTestDatabase, TestDatabase } from './test-database';
import { recordResponses } from '../contract/recorder';

export interface TestApp extends RunningApp {
  adminKey: string;
  dataDir: string;
  database: TestDatabase | null;
  /** Stops the app, then drops its database and data folder. */
  stop(): Promise<void>;
}

export interface TestAppOptions extends Pick<CreateAppOptions, 'imports' | 'clock' | 'jobEndedSteps'> {
  /** 'postgres' (default): a fresh clone of the template; 'pglite': the embedded database in a temp folder. */
  db?: 'postgres' | 'pglite';
  /** Reuse an existing database (several instances on one database). */
  database?: TestDatabase;
  env?: Record<string, string>;
  dataDir?: string;
}

export function makeTempDir(prefix = 'st-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The whole app on a free loopback port, as a user runs it, against a real database. */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = opts.dataDir ?? makeTempDir();
  const ownsDatabase = !opts.database && (opts.db ?? 'postgres') === 'postgres';
  const database = opts.database ?? (ownsDatabase ? await createTestDatabase() : null);
  const adminKey = opts.env?.SIMPLETUNER_ADMIN_API_KEY ?? generateApiKey();
  const env: Record<string, string> = {
    SIMPLETUNER_DATA_DIR: dataDir,
    SIMPLETUNER_LOG_LEVEL: 'ERROR',
    SIMPLETUNER_ENTERPRISE_CONFIG: '',
    SIMPLETUNER_ADMIN_API_KEY: adminKey,
    HOST: '127.0.0.1',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...opts.env,
  };
  const config = loadAppConfig(env, dataDir);
  const running = await createApp(config, {
    port: 0,
    imports: opts.imports,
    clock: opts.clock,
    jobEndedSteps: opts.jobEndedSteps,
  });
  // Responses of the API as shipped are checked against its OpenAPI document (apps with test modules add routes).
  if (!opts.imports) recordResponses(running.app.getHttpServer());
  return {
    ...running,
    adminKey,
    dataDir,
    database,
    async stop() {
      await running.close();
      if (ownsDatabase) await database?.drop();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
