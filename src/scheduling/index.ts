export {
  BackgroundTaskManager,
  getTaskManager,
  startBackgroundTasks,
  stopBackgroundTasks,
} from './background-task-manager';
export { SchedulingModule } from './scheduling.module';
export { leaseSlackSeconds, TaskLeaseRepository } from './task-lease.repository';
export { runForSubject } from './tick-scope';
export type { TickContext, TickFn, IntervalTaskDef, DeclaredTaskDef, TaskState, TickOutcome } from './task-types';
