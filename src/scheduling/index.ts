export { BackgroundTaskManager } from './background-task-manager';
export { SchedulingModule } from './scheduling.module';
export { Cron, Interval } from '../common/scheduled-task.decorators';
export { leaseSlackSeconds, TaskLeaseRepository } from './task-lease.repository';
export { runForSubject } from './tick-scope';
export type { TickContext, TaskState } from '../common/scheduled-task.types';
