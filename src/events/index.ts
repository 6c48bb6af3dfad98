export { EventsModule } from './events.module';
export { EventsService } from './events.service';
export { EventHub } from './event-hub';
export { EVENT_RETENTION_TASK } from './events.scheduler';
export { EVENTS_PATH } from './events.controller';
export type { NewEvent, StoredEvent, EventPayloads } from './events.types';
/** Other SSE routes (job logs) hold their streams to the same caps and the same key authority. */
export { StreamAuthority } from './stream-authority';
export type { AuthorityBound } from './stream-authority';
