import { Global, Module } from '@nestjs/common';
import { EventHub } from './event-hub';
import { EventStreamService } from './event-stream.service';
import { StreamAuthority } from './stream-authority';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsScheduler } from './events.scheduler';
import { EventsService } from './events.service';

/** Global: every feature module publishes through EventsService without importing this module. */
@Global()
@Module({
  controllers: [EventsController],
  providers: [EventsRepository, EventHub, EventsService, EventStreamService, StreamAuthority, EventsScheduler],
  exports: [EventsService, EventHub, StreamAuthority],
})
export class EventsModule {}
