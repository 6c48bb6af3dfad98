import { Injectable, OnModuleInit } from '@nestjs/common';
import { getLogger } from '../logging';
import { BackgroundTaskManager, Interval, TickContext } from '../scheduling';
import { Clock } from '../common/clock';
import { QueueEntriesService } from './queue-entries.service';
import { QueueService, TickSummary } from './queue.service';

const log = getLogger('simpletuner.cloud.queue');
const QUEUE_TASK = 'queue_processing';

/** Transport only: the processing tick every `queueProcessingInterval` seconds, and at once when a slot frees. */
@Injectable()
export class QueueScheduler implements OnModuleInit {
  constructor(
    private readonly tasks: BackgroundTaskManager,
    private readonly queue: QueueService,
    private readonly entries: QueueEntriesService,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    // Through the task's own wrapper, so an early tick never overlaps a scheduled one.
    this.entries.onWake(() => void this.tasks.runTick(QUEUE_TASK));
  }

  // Not a leader task: every instance ticks; the claim lock keeps limits exact.
  @Interval(QUEUE_TASK, (config) => config.enterprise.queueProcessingInterval, {
    onStart: (s) => log.info('Queue scheduler started', { interval_seconds: s.interval_seconds }),
    onStartError: (err) => log.error('Failed to start queue processing', { error: err }),
  })
  process(tick: TickContext): Promise<TickSummary> {
    return this.queue.processTick(this.clock.now(), tick.tickId);
  }
}
