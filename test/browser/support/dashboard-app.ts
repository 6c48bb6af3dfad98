import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createApp, RunningApp } from '../../../src/app.factory';
import { generateApiKey } from '../../../src/auth/api-key.util';
import { loadAppConfig } from '../../../src/config';
import { makeTempDir } from '../../support/test-app';
import { recordResponses } from '../../contract/recorder';
import type { TestDatabase } from '../../support/test-database';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * Builds the dashboard with the same script as `npm run build`, into a folder of this test file's own, so test
 * files running side by side never share (or half-write) a build.
 */
export function buildDashboard(): string {
  const outDir = makeTempDir('st-dashboard-');
  execFileSync(process.execPath, [path.join(ROOT, 'web', 'build.mjs'), '--out', outDir, '--quiet'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return outDir;
}

export interface AppOnPort extends RunningApp {
  adminKey: string;
}

/**
 * The app on a chosen port, for restarting "the same server" (same port, same database) under an open page.
 * startTestApp always takes a free port, so this builds the app the same way with the port fixed.
 */
export async function startAppOnPort(opts: {
  port: number;
  database: TestDatabase;
  adminKey?: string;
  env?: Record<string, string>;
}): Promise<AppOnPort> {
  const dataDir = makeTempDir();
  const adminKey = opts.adminKey ?? generateApiKey();
  const env: Record<string, string> = {
    SIMPLETUNER_DATA_DIR: dataDir,
    SIMPLETUNER_LOG_LEVEL: 'ERROR',
    SIMPLETUNER_ENTERPRISE_CONFIG: '',
    SIMPLETUNER_ADMIN_API_KEY: adminKey,
    HOST: '127.0.0.1',
    DATABASE_URL: opts.database.url,
    ...opts.env,
  };
  const running = await createApp(loadAppConfig(env, dataDir), { port: opts.port });
  recordResponses(running.app.getHttpServer());
  return {
    ...running,
    adminKey,
    async close() {
      await running.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
