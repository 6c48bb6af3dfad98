import { Body, Controller, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { ListQueueQuery, SetPriorityDto, UpdateConcurrencyDto } from './queue.dto';
import { QueueLimitsService } from './queue-limits.service';
import { QueueQueryService } from './queue-query.service';
import { QueueService } from './queue.service';
import { QueueLimitsView, QueueListView, QueuePositionView, QueueStatsView, TickSummaryView } from './queue.view';
import { UuidParam } from '../common/uuid-param';
import { ApiErrors } from '../openapi';

/** Routes without @MinLevel are admin-only. */
@ApiTags('Queue')
@Controller('api/queue')
export class QueueController {
  constructor(
    private readonly queue: QueueService,
    private readonly query: QueueQueryService,
    private readonly limits: QueueLimitsService,
  ) {}

  @Get()
  @MinLevel('viewer')
  @ApiOperation({
    summary: 'List queue entries',
    description: 'Own entries; a lead sees its organisation, an admin all.',
  })
  @ApiOkResponse({ type: QueueListView })
  list(@CurrentUser() caller: AuthenticatedUser, @Query() q: ListQueueQuery): Promise<QueueListView> {
    return this.query.list(caller, q);
  }

  @Get('stats')
  @ApiOperation({ summary: 'Queue statistics', description: 'Counts by status, depth, slots in use, waits, limits.' })
  @ApiOkResponse({ type: QueueStatsView })
  stats(): Promise<QueueStatsView> {
    return this.query.stats();
  }

  @Get('position/:job_id')
  @MinLevel('viewer')
  @ApiOperation({ summary: "A job's place in the queue and why it waits" })
  @ApiOkResponse({ type: QueuePositionView })
  @ApiErrors('job_not_found')
  position(@CurrentUser() caller: AuthenticatedUser, @UuidParam('job_id') jobId: string): Promise<QueuePositionView> {
    return this.query.position(caller, jobId);
  }

  @Post(':job_id/priority')
  @MinLevel('researcher')
  @HttpCode(200)
  @ApiOperation({
    summary: "Set or clear a waiting job's priority",
    description: 'A lead (its organisation) or an admin; the job must still be waiting (pending or blocked).',
  })
  @ApiOkResponse({ type: QueuePositionView })
  @ApiErrors('job_not_found', 'conflict')
  setPriority(
    @CurrentUser() caller: AuthenticatedUser,
    @UuidParam('job_id') jobId: string,
    @Body() dto: SetPriorityDto,
  ): Promise<QueuePositionView> {
    return this.query.setPriority(caller, jobId, dto.priority);
  }

  @Post('process')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run one queue tick now',
    description:
      'Returns the summary of this tick, once any tick already running on this instance has recorded its jobs too.',
  })
  @ApiOkResponse({ type: TickSummaryView })
  process(): Promise<TickSummaryView> {
    return this.queue.processNow();
  }

  @Get('concurrency')
  @ApiOperation({ summary: 'The concurrency limits and where each comes from' })
  @ApiOkResponse({ type: QueueLimitsView })
  concurrency(): Promise<QueueLimitsView> {
    return this.limits.view();
  }

  @Put('concurrency')
  @ApiOperation({
    summary: 'Change the concurrency limits',
    description: 'Stored in the database for every instance; `null` returns a limit to its configured default.',
  })
  @ApiOkResponse({ type: QueueLimitsView })
  updateConcurrency(
    @CurrentUser() caller: AuthenticatedUser,
    @Body() dto: UpdateConcurrencyDto,
  ): Promise<QueueLimitsView> {
    return this.limits.update(dto, caller);
  }
}
