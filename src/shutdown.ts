import type { RunningApp } from './app.factory';
import { getLogger } from './logging';

const log = getLogger('simpletuner.cloud.main');

/**
 * SIGTERM/SIGINT: stop background tasks (waiting for in-flight ticks up to SIMPLETUNER_SHUTDOWN_TIMEOUT), close
 * the app, exit 0. Our own handler because Nest's enableShutdownHooks re-raises the signal (exit 143).
 */
export function installShutdownHandlers(
  running: RunningApp,
  exit: (code: number) => void = (c) => process.exit(c),
): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`Received ${signal}, shutting down`);
    running
      .close()
      .then(() => {
        log.info('Shutdown complete');
        exit(0);
      })
      .catch((err: unknown) => {
        log.error('Error during shutdown', { error: err });
        exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
