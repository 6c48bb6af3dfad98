import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BackgroundTaskManager } from './background-task-manager';
import { BackgroundTasksView } from './background-tasks.view';

/** Admin-only (no @MinLevel): the state of every background task. */
@ApiTags('Polling and tasks')
@Controller('api/cloud/background-tasks')
export class BackgroundTasksController {
  constructor(private readonly manager: BackgroundTaskManager) {}

  @Get()
  @ApiOperation({ summary: 'Background tasks and their last runs' })
  @ApiOkResponse({ type: BackgroundTasksView })
  list(): BackgroundTasksView {
    return { started: this.manager.isStarted(), tasks: this.manager.getStates() };
  }
}
