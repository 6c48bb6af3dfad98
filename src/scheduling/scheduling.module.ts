import { Global, Module } from '@nestjs/common';
import { BackgroundTaskManager } from './background-task-manager';
import { BackgroundTasksController } from './background-tasks.controller';
import { TaskLeaseRepository } from './task-lease.repository';

/**
 * Global: feature modules (and enterprise modules added through AppModule's `imports`) inject the manager and
 * register their tasks without touching core files. Needs ScheduleModule.forRoot() in the app (AppModule has it).
 */
@Global()
@Module({
  providers: [BackgroundTaskManager, TaskLeaseRepository],
  controllers: [BackgroundTasksController],
  exports: [BackgroundTaskManager],
})
export class SchedulingModule {}
