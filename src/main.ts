import 'reflect-metadata';
import { createApp, RunningApp } from './app.factory';
import { loadAppConfigOrExit } from './config';
import { DataDirLockedError } from './database';
import { getLogger } from './logging';
import { installShutdownHandlers } from './shutdown';

async function main(): Promise<void> {
  const config = loadAppConfigOrExit();

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
  // Our own signal handling (shared with the shutdown test's child process): tasks drain, then exit 0. Installed
  // before the readiness line, so whoever waits for that line may signal at once.
  installShutdownHandlers(running);
  log.info(`SimpleTuner Cloud listening on ${running.url}`, {
    database: config.embeddedDatabase ? `pglite:${config.dataDir}` : 'postgres',
  });
}

void main();
