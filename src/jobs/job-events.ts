import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { getLogger } from '../logging';

const log = getLogger('simpletuner.cloud.jobs');

export interface JobEvent {
  type: string;
  jobId: string;
  userId: string;
  orgId: string;
  data: Record<string, unknown>;
}

/**
 * The jobs module's one door to the events module (SPEC §9): every event is stored in the caller's transaction.
 * TEMPORARY until src/events lands: events are only logged at DEBUG.
 */
@Injectable()
export class JobEventPublisher {
  async publish(_manager: EntityManager, event: JobEvent): Promise<void> {
    log.debug(`Event ${event.type}`, { job_id: event.jobId, event_type: event.type });
  }
}
