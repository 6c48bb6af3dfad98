/**
 * The service's process entry (as src/main.ts) plus an enterprise task with a slow tick, for the SIGTERM test.
 * Usage: node -r test/support/ts-cached-register.js shutdown-child.ts <tickMs>; configuration from the environment.
 */
import 'reflect-metadata';
import { createApp } from '../../../src/app.factory';
import { loadAppConfig } from '../../../src/config';
import { getLogger } from '../../../src/logging';
import { installShutdownHandlers } from '../../../src/shutdown';
import { slowExportModule } from './slow-export.module';

async function main(): Promise<void> {
  const tickMs = Number(process.argv[2] ?? '0');
  const running = await createApp(loadAppConfig(), { imports: [slowExportModule(tickMs)] });
  getLogger('simpletuner.cloud.main').info(`SimpleTuner Cloud listening on ${running.url}`);
  installShutdownHandlers(running);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
