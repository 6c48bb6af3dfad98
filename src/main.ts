import 'reflect-metadata';
import { createApp, RunningApp } from './app.factory';
import { ConfigValidationError, loadAppConfig } from './config';
import { DataDirLockedError } from './database';
import { getLogger } from './logging';
import { installShutdownHandlers } from './scheduling';

async function main(): Promise<void> {
  let config;
  try {
    config = loadAppConfig();
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const log = getLogger('simpletuner.cloud.main');
  let running: RunningApp;
  try {
    running = await createApp(config);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    log.critical('Failed to start', { error: err });
    process.exit(1);
  }
  log.info(`SimpleTuner Cloud listening on ${running.url}`, {
    database: config.embeddedDatabase ? `pglite:${config.dataDir}` : 'postgres',
  });

  // Our own signal handling (shared with the shutdown test's child process): tasks drain, then exit 0.
  installShutdownHandlers(running);
}

void main();
