export { QueueModule } from './queue.module';
export { QueueService, CLAIM_BATCH, CLAIM_LOCK } from './queue.service';
export type { TickSummary } from './queue.service';
export { QueueLimitsService } from './queue-limits.service';
export { QueueEntry, QUEUE_ENTRY_STATUSES } from './queue-entry.entity';
export type { QueueEntryStatus, WaitReason } from './queue-entry.entity';
export { PRIORITY, defaultPriorityFor, agedPriority, backoffMs } from './queue-priority';
