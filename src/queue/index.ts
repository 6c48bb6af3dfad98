export { QueueModule } from './queue.module';
export { QueueEntriesService } from './queue-entries.service';
export { DispatchGate, type GateCheck, type GateRead, type QuotaWaitReason } from './dispatch-gate';
export type { Candidate } from './claim.repository';
