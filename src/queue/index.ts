export { QueueModule } from './queue.module';
export { QueueService } from './queue.service';
