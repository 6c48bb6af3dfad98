import { DynamicModule, Injectable, Module } from '@nestjs/common';
import { getLogger } from '../../../src/logging';
import { Interval } from '../../../src/scheduling';

const log = getLogger('simpletuner.cloud.enterprise.export');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An enterprise task whose tick takes `tickMs` (0 = registered but idle: its first tick is a minute away). */
export function slowExportModule(tickMs: number): DynamicModule {
  @Injectable()
  class SlowExportScheduler {
    @Interval('slow_export', tickMs > 0 ? 0.2 : 60)
    async export(): Promise<void> {
      log.info('Slow tick started', { tick_ms: tickMs });
      await sleep(tickMs);
      log.info('Slow tick finished');
    }
  }
  @Module({ providers: [SlowExportScheduler] })
  class SlowExportModule {}
  return { module: SlowExportModule };
}
