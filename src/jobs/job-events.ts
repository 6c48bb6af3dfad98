import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventsService } from '../events/events.service';

export interface JobEvent {
  type: string;
  jobId: string;
  userId: string;
  orgId: string;
  data: Record<string, unknown>;
}

/** The jobs module's one door to the event log (SPEC §9): stored in the caller's transaction. */
@Injectable()
export class JobEventPublisher {
  constructor(private readonly events: EventsService) {}

  async publish(manager: EntityManager, event: JobEvent): Promise<void> {
    await this.events.publish(manager, event);
  }

  async publishMany(manager: EntityManager, events: JobEvent[]): Promise<void> {
    await this.events.publishMany(manager, events);
  }
}
