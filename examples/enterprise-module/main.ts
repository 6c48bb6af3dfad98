import 'reflect-metadata';
import { createApp } from '../../src/app.factory';
import { loadAppConfigOrExit } from '../../src/config';
import { getLogger } from '../../src/logging';
import { installShutdownHandlers } from '../../src/shutdown';
import { ChargebackService } from './chargeback.service';
import { OnpremEnterpriseModule } from './enterprise.module';

/** The enterprise build's entry point: the service's own, with one more module. */
async function main(): Promise<void> {
  const config = loadAppConfigOrExit();
  const running = await createApp(config, { imports: [OnpremEnterpriseModule], jobEndedSteps: [ChargebackService] });
  // SIGTERM/SIGINT: running ticks (core's and this module's) finish, then the process exits 0.
  installShutdownHandlers(running);
  getLogger('simpletuner.cloud.main').info(`SimpleTuner Cloud (enterprise) listening on ${running.url}`);
}

void main();
