import { Injectable, Optional } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventsService } from '../events/events.service';
import type { NewEvent } from '../events/events.types';
import { getLogger } from '../logging';

const log = getLogger('simpletuner.cloud.queue');

/**
 * The queue's door to the event log (SPEC §9): events are stored in the caller's transaction. Optional so the
 * queue still runs in an app assembled without the events module (they are then only logged at DEBUG).
 */
@Injectable()
export class QueueEvents {
  constructor(@Optional() private readonly events?: EventsService) {}

  async publish(manager: EntityManager, event: NewEvent): Promise<void> {
    await this.publishMany(manager, [event]);
  }

  async publishMany(manager: EntityManager, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.events) await this.events.publishMany(manager, events);
    else for (const e of events) log.debug(`Event ${e.type}`, { job_id: e.jobId ?? null, event_type: e.type });
  }
}
