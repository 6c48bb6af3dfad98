export { EventsModule } from './events.module';
export { EventsService } from './events.service';
export { EventHub } from './event-hub';
export type { EventHubStats } from './event-hub';
export { EVENT_RETENTION_TASK } from './events.scheduler';
export { EVENTS_PATH } from './events.controller';
export { EVENT_TYPES, RESET_EVENT } from './events.types';
export type { NewEvent, StoredEvent, EventType, EventPayloads } from './events.types';
