import type { Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { DataSource } from 'typeorm';
import { AppModule, AppModuleOptions } from '../../src/app.module';
import type { Clock } from '../../src/common/clock';
import type { AppConfig } from '../../src/config';
import { DatabaseTarget, EmbeddedPostgres, startEmbeddedPostgres } from '../../src/database';
import { configureStructuredLogging } from '../../src/logging';
import { BackgroundTaskManager } from '../../src/scheduling';
import { makeTestConfig, TestConfigOptions } from './test-config';
import type { TestDatabase } from './test-database';

export interface ServiceModuleOptions extends TestConfigOptions, Pick<AppModuleOptions, 'imports' | 'jobEndedSteps'> {
  /** The time source the services stamp their changes with (a TestClock to drive aging or expiry). */
  clock?: Clock;
}

/** The app's services on a real database, without an HTTP server. */
export interface ServiceModule {
  module: TestingModule;
  config: AppConfig;
  /** The bootstrap admin's key (the services create the admin at boot, as the app does). */
  adminKey: string;
  dataDir: string;
  database: TestDatabase | null;
  /** The app's own DataSource. */
  db: DataSource;
  get<T>(type: Type<T> | string | symbol): T;
  /** Closes the module (shutdown hooks, pools, the embedded database), then drops its database and data folder. */
  close(): Promise<void>;
}

/** The app factory's logging setup: tests read the lines the services write (stdout, SIMPLETUNER_LOG_FILE). */
function configureLogging(config: AppConfig): void {
  configureStructuredLogging({
    level: config.env.SIMPLETUNER_LOG_LEVEL,
    jsonOutput: config.env.SIMPLETUNER_LOG_FORMAT === 'json',
    logFile: config.env.SIMPLETUNER_LOG_FILE,
    includeStackInfo: config.env.SIMPLETUNER_LOG_INCLUDE_STACK,
  });
}

async function databaseTarget(config: AppConfig): Promise<{ target: DatabaseTarget; embedded?: EmbeddedPostgres }> {
  if (config.env.DATABASE_URL) {
    return { target: { kind: 'postgres', url: config.env.DATABASE_URL, poolSize: config.env.DB_POOL_SIZE } };
  }
  const embedded = await startEmbeddedPostgres(config.dataDir);
  return { target: { kind: 'embedded', connect: embedded.connect }, embedded };
}

async function compile(opts: ServiceModuleOptions, config: AppConfig, database: DatabaseTarget) {
  const module = await Test.createTestingModule({
    imports: [
      AppModule.forRoot({
        config,
        database,
        clock: opts.clock,
        imports: opts.imports,
        jobEndedSteps: opts.jobEndedSteps,
      }),
    ],
  }).compile();
  try {
    module.useLogger(module.get(NestPinoLogger));
    await module.init();
    return module;
  } catch (err) {
    await module.close().catch(() => undefined);
    throw err;
  }
}

/**
 * The app's own module assembly (AppModule.forRoot, as createApp builds it) compiled by Nest's testing module and
 * initialised, with no HTTP server. Background tasks are discovered but never scheduled: the manager starts them
 * when the app listens, which never happens here, so no tick and no wake-up runs on its own. A test that is about
 * the schedule starts the manager itself; close() stops it first, as the app does.
 */
export async function startServiceModule(opts: ServiceModuleOptions = {}): Promise<ServiceModule> {
  const prepared = await makeTestConfig(opts);
  const { config } = prepared;
  configureLogging(config);
  let embedded: EmbeddedPostgres | undefined;
  let module: TestingModule;
  try {
    const target = await databaseTarget(config);
    embedded = target.embedded;
    module = await compile(opts, config, target.target);
  } catch (err) {
    await embedded?.stop().catch(() => undefined);
    await prepared.cleanUp();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    module,
    config,
    adminKey: prepared.adminKey,
    dataDir: prepared.dataDir,
    database: prepared.database,
    db: module.get<DataSource>(getDataSourceToken()),
    get: <T>(type: Type<T> | string | symbol) => module.get<T>(type),
    close() {
      closing ??= (async () => {
        try {
          await module.get(BackgroundTaskManager).stop();
          await module.close();
        } finally {
          await embedded?.stop();
          await prepared.cleanUp();
        }
      })();
      return closing;
    },
  };
}
