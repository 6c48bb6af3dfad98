import { Controller, Get } from '@nestjs/common';
import { BackgroundTaskManager } from './background-task-manager';
import type { TaskState } from './task-types';

/** Admin-only (no @MinLevel): the state of every background task (SPEC §10). */
@Controller('api/cloud/background-tasks')
export class BackgroundTasksController {
  constructor(private readonly manager: BackgroundTaskManager) {}

  @Get()
  list(): { started: boolean; tasks: TaskState[] } {
    return { started: this.manager.isStarted(), tasks: this.manager.getStates() };
  }
}
