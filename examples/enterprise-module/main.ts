import 'reflect-metadata';
import { createApp } from '../../src/app.factory';
import { loadAppConfigOrExit } from '../../src/config';
import { getLogger } from '../../src/logging';
import { OnpremEnterpriseModule } from './enterprise.module';

/** The enterprise build's entry point: the service's own, with one more module. */
async function main(): Promise<void> {
  const config = loadAppConfigOrExit();
  const running = await createApp(config, { imports: [OnpremEnterpriseModule] });
  getLogger('simpletuner.cloud.main').info(`SimpleTuner Cloud (enterprise) listening on ${running.url}`);
}

void main();
