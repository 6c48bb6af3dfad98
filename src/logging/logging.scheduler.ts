import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { Cron, Interval } from '@nestjs/schedule';
import { BackgroundTaskManager } from '../scheduling/background-task-manager';
import { LogRotationService } from './log-rotation.service';

export const LOG_SIZE_CHECK_TASK = 'log_rotation_size_check';
export const LOG_DAILY_ROTATION_TASK = 'log_rotation_daily';
/** How often the file size is compared with SIMPLETUNER_LOG_MAX_BYTES. */
export const LOG_SIZE_CHECK_MS = 30_000;

/** Transport only: each tick runs one LogRotationService method through the shared tick wrapper. */
@Injectable()
export class LoggingScheduler implements OnModuleInit {
  constructor(
    private readonly rotation: LogRotationService,
    @Optional() private readonly tasks?: BackgroundTaskManager,
  ) {}

  onModuleInit(): void {
    this.tasks?.declare({ name: LOG_SIZE_CHECK_TASK, schedule: `every ${LOG_SIZE_CHECK_MS / 1000}s` });
    this.tasks?.declare({ name: LOG_DAILY_ROTATION_TASK, schedule: 'cron 0 0 * * * (UTC)' });
  }

  @Interval(LOG_SIZE_CHECK_TASK, LOG_SIZE_CHECK_MS)
  async checkSize(): Promise<void> {
    if (this.tasks) await this.tasks.runTick(LOG_SIZE_CHECK_TASK, () => this.rotation.rotateIfNeeded(new Date()));
    else await this.rotation.rotateIfNeeded(new Date());
  }

  @Cron('0 0 * * *', { name: LOG_DAILY_ROTATION_TASK, timeZone: 'UTC' })
  async rotateDaily(): Promise<void> {
    if (this.tasks) await this.tasks.runTick(LOG_DAILY_ROTATION_TASK, () => this.rotation.rotateDaily(new Date()));
    else await this.rotation.rotateDaily(new Date());
  }
}
