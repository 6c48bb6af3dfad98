import { Injectable } from '@nestjs/common';
import { Cron, Interval } from '../common/scheduled-task.decorators';
import { LogRotationService, RotationResult } from './log-rotation.service';

export const LOG_SIZE_CHECK_TASK = 'log_rotation_size_check';
const LOG_DAILY_ROTATION_TASK = 'log_rotation_daily';
/** How often the file size is compared with SIMPLETUNER_LOG_MAX_BYTES. */
const LOG_SIZE_CHECK_SECONDS = 30;

/** Transport only: each tick runs one LogRotationService method. */
@Injectable()
export class LoggingScheduler {
  constructor(private readonly rotation: LogRotationService) {}

  @Interval(LOG_SIZE_CHECK_TASK, LOG_SIZE_CHECK_SECONDS)
  checkSize(): Promise<RotationResult> {
    return this.rotation.rotateIfNeeded(new Date());
  }

  @Cron('0 0 * * *', { name: LOG_DAILY_ROTATION_TASK, timeZone: 'UTC' })
  rotateDaily(): Promise<RotationResult> {
    return this.rotation.rotateDaily(new Date());
  }
}
