export { EventsModule } from './events.module';
export { EventsService } from './events.service';
export { EventHub } from './event-hub';
export { EVENT_RETENTION_TASK } from './events.scheduler';
export { EVENTS_PATH } from './events.controller';
export type { NewEvent, StoredEvent, EventPayloads } from './events.types';
