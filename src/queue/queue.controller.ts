import { Body, Controller, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { CurrentUser, MinLevel } from '../auth/auth.decorators';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { ListQueueQuery, SetPriorityDto, UpdateConcurrencyDto } from './queue.dto';
import { QueueLimitsService } from './queue-limits.service';
import { QueueQueryService } from './queue-query.service';
import { QueueService } from './queue.service';
import { UuidParam } from '../common/uuid-param';

/** SPEC §6 routes. Routes without @MinLevel are admin-only (SPEC §3). */
@Controller('api/queue')
export class QueueController {
  constructor(
    private readonly queue: QueueService,
    private readonly query: QueueQueryService,
    private readonly limits: QueueLimitsService,
  ) {}

  @Get()
  @MinLevel('viewer')
  list(@CurrentUser() caller: AuthenticatedUser, @Query() q: ListQueueQuery) {
    return this.query.list(caller, q);
  }

  @Get('stats')
  stats() {
    return this.query.stats();
  }

  @Get('position/:job_id')
  @MinLevel('viewer')
  position(@CurrentUser() caller: AuthenticatedUser, @UuidParam('job_id') jobId: string) {
    return this.query.position(caller, jobId);
  }

  @Post(':job_id/priority')
  @MinLevel('researcher')
  @HttpCode(200)
  setPriority(
    @CurrentUser() caller: AuthenticatedUser,
    @UuidParam('job_id') jobId: string,
    @Body() dto: SetPriorityDto,
  ) {
    return this.query.setPriority(caller, jobId, dto.priority);
  }

  @Post('process')
  @HttpCode(200)
  process() {
    return this.queue.processTick(new Date());
  }

  @Get('concurrency')
  concurrency() {
    return this.limits.view();
  }

  @Put('concurrency')
  updateConcurrency(@CurrentUser() caller: AuthenticatedUser, @Body() dto: UpdateConcurrencyDto) {
    return this.limits.update(dto, caller);
  }
}
