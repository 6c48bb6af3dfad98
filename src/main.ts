import 'reflect-metadata';
import { createApp, RunningApp } from './app.factory';
import { ConfigValidationError, loadAppConfig } from './config';
import { DataDirLockedError } from './database';
import { getLogger } from './logging';

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

  // Our own signal handling: Nest's enableShutdownHooks re-raises the signal, which exits 143, not 0.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`Received ${signal}, shutting down`);
    running
      .close()
      .then(() => {
        log.info('Shutdown complete');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error('Error during shutdown', { error: err });
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
