import { createApp, CreateAppOptions, RunningApp } from '../../src/app.factory';
import { recordResponses } from '../contract/recorder';
import { makeTestConfig, TestConfigOptions } from './test-config';
import type { TestDatabase } from './test-database';

export { makeTempDir } from './test-config';

export interface TestApp extends RunningApp {
  adminKey: string;
  dataDir: string;
  database: TestDatabase | null;
  /** Stops the app, then drops its database and data folder. */
  stop(): Promise<void>;
}

export type TestAppOptions = TestConfigOptions &
  Pick<CreateAppOptions, 'imports' | 'clock' | 'jobEndedSteps'> & {
    /** Listen on this port (one a test reserved, e.g. for a redirect URL registered beforehand); default any. */
    port?: number;
  };

/** The whole app on a free loopback port, as a user runs it, against a real database. */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const prepared = await makeTestConfig(opts);
  let running: RunningApp;
  try {
    running = await createApp(prepared.config, {
      port: opts.port ?? 0,
      imports: opts.imports,
      clock: opts.clock,
      jobEndedSteps: opts.jobEndedSteps,
    });
  } catch (err) {
    await prepared.cleanUp();
    throw err;
  }
  // Responses of the API as shipped are checked against its OpenAPI document (apps with test modules add routes).
  if (!opts.imports) recordResponses(running.app.getHttpServer());
  return {
    ...running,
    adminKey: prepared.adminKey,
    dataDir: prepared.dataDir,
    database: prepared.database,
    async stop() {
      await running.close();
      await prepared.cleanUp();
    },
  };
}
