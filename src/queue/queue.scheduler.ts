import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { BackgroundTaskManager } from '../scheduling/background-task-manager';
import type { TickContext } from '../scheduling/task-types';
import { QueueService } from './queue.service';

const log = getLogger('simpletuner.cloud.queue');
export const QUEUE_TASK = 'queue_processing';

/** Transport only: the processing tick every `queueProcessingInterval` seconds, and at once when a slot frees. */
@Injectable()
export class QueueScheduler implements OnModuleInit {
  constructor(
    private readonly tasks: BackgroundTaskManager,
    private readonly queue: QueueService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const run = (ctx: TickContext) => this.queue.processTick(new Date(), ctx.tickId);
    try {
      this.tasks.registerInterval({
        name: QUEUE_TASK,
        intervalSeconds: this.config.enterprise.queueProcessingInterval,
        // Not a leader task: every instance ticks; the claim lock keeps limits exact.
        run,
        onStart: (s) => log.info('Queue scheduler started', { interval_seconds: s.interval_seconds }),
        onStartError: (err) => log.error('Failed to start queue processing', { error: err }),
      });
    } catch (err) {
      log.error('Failed to start queue processing', { error: err });
      return;
    }
    this.queue.onWake(() => void this.tasks.runTick(QUEUE_TASK, run));
  }
}
