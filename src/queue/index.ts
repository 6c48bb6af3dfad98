export { QueueModule } from './queue.module';
export { QueueEntriesService } from './queue-entries.service';
