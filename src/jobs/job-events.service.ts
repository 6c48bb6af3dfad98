import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth';
import { EventsService } from '../events';
import { JOB_EVENTS_DEFAULT } from './job-events.dto';
import type { JobEventListView } from './job-events.view';
import { JobsService } from './jobs.service';

/** A job's history as its stored events: what the dashboard draws the job's timeline from. */
@Injectable()
export class JobEventsService {
  constructor(
    private readonly jobs: JobsService,
    private readonly events: EventsService,
  ) {}

  /** The newest `limit` events of a job the caller may see (404 as the job otherwise), oldest first. */
  async list(user: AuthenticatedUser, jobId: string, limit = JOB_EVENTS_DEFAULT): Promise<JobEventListView> {
    await this.jobs.findVisible(user, jobId);
    const { events, more } = await this.events.ofJob(jobId, limit);
    return {
      job_id: jobId,
      events: events.map((e) => ({ id: e.id, type: e.type, created_at: e.createdAt.toISOString(), data: e.data })),
      more,
    };
  }
}
