import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiInt } from '../openapi';
import type { TaskState } from '../common/scheduled-task.types';

/** One background task and how its runs went. */
export class TaskStateView implements TaskState {
  @ApiProperty({ example: 'queue_processing' })
  name: string;
  /** `interval`: every interval_seconds (from configuration, or a leader's lease); `declared`: as `schedule` says */
  @ApiProperty({ enum: ['interval', 'declared'] })
  kind: 'interval' | 'declared';
  @ApiProperty({ type: Number, nullable: true, example: 5 })
  interval_seconds: number | null;
  /** For people, e.g. `every 5s` or `cron 0 0 * * *` */
  schedule: string;
  enabled: boolean;
  /** Why the task is on or off, e.g. `auto: no webhook configured` */
  reason: string | null;
  /** Runs once per interval across all instances */
  leader: boolean;
  running: boolean;
  @ApiDateTime({ nullable: true })
  last_started_at: string | null;
  @ApiDateTime({ nullable: true })
  last_finished_at: string | null;
  last_duration_ms: number | null;
  last_error: string | null;
  @ApiInt()
  runs: number;
  @ApiInt()
  failures: number;
  /** Ticks dropped because the previous run was still going */
  @ApiInt()
  skipped: number;
  /** Ticks another instance ran (leader tasks) */
  @ApiInt()
  not_leader: number;
}

export class BackgroundTasksView {
  /** The tasks were started (the app is ready) and not yet stopped */
  started: boolean;
  @ApiProperty({ type: [TaskStateView] })
  tasks: TaskStateView[];
}
