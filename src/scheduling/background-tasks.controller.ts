import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../openapi';
import { BackgroundTaskManager } from './background-task-manager';
import { BackgroundTasksView, TaskRunView } from './background-tasks.view';

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

  @Post(':name/run')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run a background task once, now',
    description:
      'Through the same wrapper, lease and no-overlap rule as its schedule (whether the schedule is on or not): ' +
      'refused while the task runs on this or another instance. Answers once the run has ended, with what the ' +
      'task returned; a run that failed answers 200 with `outcome: failure` and its error.',
  })
  @ApiOkResponse({ type: TaskRunView })
  @ApiErrors('not_found', 'conflict')
  run(@Param('name') name: string): Promise<TaskRunView> {
    return this.manager.runNow(name);
  }
}
