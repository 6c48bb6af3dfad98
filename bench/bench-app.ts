import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApp, type RunningApp } from '../src/app.factory';
import { loadAppConfig } from '../src/config';
import { BENCH_LIMITS_ENV } from './api-rate-limits';
import { admin, dbUrl } from './queue-common';

export interface BenchApp {
  running: RunningApp;
  adminKey: string;
  /** Stops the app, drops its database and removes its data folder. */
  stop: () => Promise<void>;
}

/**
 * The app in this process on a fresh PostgreSQL database `dbName` (on TEST_DATABASE_URL's server, made again if a
 * killed run left it): logging at ERROR, nothing dispatched or polled on a schedule, the inbound limits on as in
 * production but far above what a bench sends; `env` on top.
 */
export async function startBenchApp(dbName: string, env: Record<string, string> = {}): Promise<BenchApp> {
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${dbName}`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `st-${dbName}-`));
  const adminKey = `st_${randomBytes(16).toString('hex')}`;
  const config = loadAppConfig(
    {
      DATABASE_URL: dbUrl(dbName),
      SIMPLETUNER_DATA_DIR: dataDir,
      SIMPLETUNER_LOG_LEVEL: 'ERROR',
      SIMPLETUNER_ENTERPRISE_CONFIG: '',
      SIMPLETUNER_ADMIN_API_KEY: adminKey,
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_JOB_POLL_INTERVAL: '3600',
      ...BENCH_LIMITS_ENV,
      ...env,
    },
    dataDir,
  );
  const running = await createApp(config, { port: 0 });
  return {
    running,
    adminKey,
    stop: async () => {
      await running.close();
      await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
