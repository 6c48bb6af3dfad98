import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BackgroundTaskManager } from './background-task-manager';
import { BackgroundTasksController } from './background-tasks.controller';
import { ScheduledTaskExplorer } from './scheduled-task.explorer';
import { TaskLeaseRepository } from './task-lease.repository';

/**
 * Global: a feature module (an enterprise one added through AppModule's `imports` too) only marks its methods
 * with @Interval/@Cron, and may inject the manager to switch a task at run time, without touching core files.
 * Needs ScheduleModule.forRoot() in the app (AppModule has it): its SchedulerRegistry holds the timers.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [BackgroundTaskManager, ScheduledTaskExplorer, TaskLeaseRepository],
  controllers: [BackgroundTasksController],
  exports: [BackgroundTaskManager],
})
export class SchedulingModule {}
