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

/** One run asked for over the API. */
export class TaskRunView {
  @ApiProperty({ example: 'job_retention' })
  task: string;
  @ApiDateTime()
  started_at: string;
  @ApiProperty({ enum: ['success', 'failure'] })
  outcome: 'success' | 'failure';
  duration_ms: number;
  /** The failure, as the task listing shows it; null on success */
  @ApiProperty({ type: String, nullable: true })
  error: string | null;
  /** What the task returned (e.g. `{deleted, days, cutoff, batches}` for job_retention); null when nothing */
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  summary: unknown;
}
