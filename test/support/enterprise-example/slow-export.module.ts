import { DynamicModule, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { getLogger } from '../../../src/logging';
import { BackgroundTaskManager } from '../../../src/scheduling';

const log = getLogger('simpletuner.cloud.enterprise.export');

/** An enterprise task whose tick takes `tickMs` (0 = registered but idle: its first tick is a minute away). */
export function slowExportModule(tickMs: number): DynamicModule {
  @Injectable()
  class SlowExportScheduler implements OnModuleInit {
    constructor(private readonly tasks: BackgroundTaskManager) {}
    onModuleInit(): void {
      this.tasks.registerInterval({
        name: 'slow_export',
        intervalSeconds: tickMs > 0 ? 0.2 : 60,
        run: async () => {
          log.info('Slow tick started', { tick_ms: tickMs });
          await new Promise((r) => setTimeout(r, tickMs));
          log.info('Slow tick finished');
        },
      });
    }
  }
  @Module({ providers: [SlowExportScheduler] })
  class SlowExportModule {}
  return { module: SlowExportModule };
}
