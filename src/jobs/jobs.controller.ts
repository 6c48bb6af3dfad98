import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CurrentUser, MinLevel } from '../auth/auth.decorators';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CostEstimateQuery, ListJobsQuery, SubmitJobDto } from './jobs.dto';
import { idempotencyFrom } from './idempotency';
import { JobSubmissionService } from './job-submission.service';
import { JobsService } from './jobs.service';

@Controller('api/cloud')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly submissions: JobSubmissionService,
  ) {}

  /** 201 for a new job; 200 with `idempotent_hit: true` for a repeated idempotency key. */
  /**
   * 201 for a new job; 200 with `idempotent_hit: true` (and the `Idempotent-Replayed: true` header) when the same
   * idempotency key, from the body or the `Idempotency-Key` header, was used within 24 h.
   */
  @Post('jobs/submit')
  @MinLevel('researcher')
  async submit(
    @CurrentUser() user: AuthenticatedUser,
    @Body() dto: SubmitJobDto,
    @Headers('idempotency-key') idempotencyHeader: string | string[] | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const result = await this.submissions.submit(user, dto, idempotencyFrom(dto.idempotency_key, idempotencyHeader));
    res.status(result.created ? 201 : 200);
    if (!result.created) res.setHeader('Idempotent-Replayed', 'true');
    return result.body;
  }

  @Get('jobs')
  @MinLevel('viewer')
  list(@CurrentUser() user: AuthenticatedUser, @Query() q: ListJobsQuery) {
    return this.jobs.list(user, q);
  }

  @Get('jobs/:id')
  @MinLevel('viewer')
  get(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string) {
    return this.jobs.get(user, id);
  }

  @Post('jobs/:id/cancel')
  @HttpCode(200)
  @MinLevel('researcher')
  cancel(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string) {
    return this.jobs.cancel(user, id);
  }

  @Delete('jobs/:id')
  @MinLevel('researcher')
  remove(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string) {
    return this.jobs.remove(user, id);
  }

  @Get('cost-estimate')
  @MinLevel('viewer')
  costEstimate(@CurrentUser() user: AuthenticatedUser, @Query() q: CostEstimateQuery) {
    return this.jobs.costEstimate(user, q.hardware_profile);
  }
}
