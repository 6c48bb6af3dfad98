import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { UuidParam } from '../common/uuid-param';
import { ApiErrors } from '../openapi';
import { JobEventsQuery } from './job-events.dto';
import { JobEventsService } from './job-events.service';
import { JobEventListView } from './job-events.view';

@ApiTags('Jobs')
@Controller('api/cloud/jobs')
export class JobEventsController {
  constructor(private readonly jobEvents: JobEventsService) {}

  @Get(':id/events')
  @MinLevel('viewer')
  @ApiOperation({
    summary: "List a job's events",
    description:
      'The stored events about the job (submitted, approval, dispatched, status changes, webhooks, artifacts), ' +
      'oldest first, as GET /api/events delivered them: its history for a timeline. Events older than the ' +
      'retention period are gone. Visible to whoever sees the job.',
  })
  @ApiOkResponse({ type: JobEventListView })
  @ApiErrors('job_not_found')
  list(
    @CurrentUser() user: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Query() q: JobEventsQuery,
  ): Promise<JobEventListView> {
    return this.jobEvents.list(user, id, q.limit);
  }
}
