import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser, MinLevel } from '../auth';
import { RateLimit } from '../rate-limits';
import type { AuthenticatedUser } from '../auth';
import { UuidParam } from '../common/uuid-param';
import { ApiErrors, ApiIdempotentCreate } from '../openapi';
import { CostEstimateQuery, ListJobsQuery, SubmitJobDto } from './jobs.dto';
import { idempotencyFrom } from './idempotency';
import { SubmitPipeline } from './pipeline/submit.pipeline';
import { JobsService } from './jobs.service';
import { CostEstimateView, DeletedJobView, JobListView, JobView, SubmittedJobView } from './jobs.view';

@ApiTags('Jobs')
@Controller('api/cloud')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly submissions: SubmitPipeline,
  ) {}

  /**
   * 201 for a new job; 200 with `idempotent_hit: true` (and the `Idempotent-Replayed: true` header) when the same
   * idempotency key, from the body or the `Idempotency-Key` header, was used within 24 h.
   */
  @Post('jobs/submit')
  @MinLevel('researcher')
  @RateLimit('submit')
  @ApiOperation({
    summary: 'Submit a training job',
    description:
      'The job waits for an approval when a rule requires one, else for a dispatch slot. Retry-safe with an ' +
      'idempotency key (the `Idempotency-Key` header or `idempotency_key` in the body): a repeat within 24 h with ' +
      'the same key and body answers 200 with the first job; the same key with another body is 422 ' +
      '`idempotency_key_reused` for the header, 409 `conflict` for the body key.',
  })
  @ApiIdempotentCreate({
    type: SubmittedJobView,
    header: 'Makes the submission retry-safe (1–255 printable ASCII characters; must equal a body key if both)',
    created: 'The job was created',
    replayed: 'the first job',
  })
  @ApiErrors('not_found', 'conflict', 'idempotency_key_reused', 'quota_exceeded')
  async submit(
    @CurrentUser() user: AuthenticatedUser,
    @Body() dto: SubmitJobDto,
    @Headers('idempotency-key') idempotencyHeader: string | string[] | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmittedJobView> {
    const result = await this.submissions.submit(user, dto, idempotencyFrom(dto.idempotency_key, idempotencyHeader));
    res.status(result.created ? 201 : 200);
    if (!result.created) res.setHeader('Idempotent-Replayed', 'true');
    return result.body as SubmittedJobView;
  }

  @Get('jobs')
  @MinLevel('viewer')
  @ApiOperation({
    summary: 'List jobs',
    description: 'Newest first. A researcher sees its own jobs; a viewer and a lead their organisation; an admin all.',
  })
  @ApiOkResponse({ type: JobListView })
  list(@CurrentUser() user: AuthenticatedUser, @Query() q: ListJobsQuery): Promise<JobListView> {
    return this.jobs.list(user, q);
  }

  @Get('jobs/:id')
  @MinLevel('viewer')
  @ApiOperation({ summary: 'Get a job' })
  @ApiOkResponse({ type: JobView })
  @ApiErrors('job_not_found')
  get(@CurrentUser() user: AuthenticatedUser, @UuidParam('id') id: string): Promise<JobView> {
    return this.jobs.get(user, id);
  }

  @Post('jobs/:id/cancel')
  @HttpCode(200)
  @MinLevel('researcher')
  @ApiOperation({
    summary: 'Cancel a job',
    description:
      'Cancels at the provider first: if the provider fails, the job is unchanged (502/503). A job held for ' +
      'approval has its request cancelled too. The owner, a lead of its organisation or an admin may cancel.',
  })
  @ApiOkResponse({ type: JobView })
  @ApiErrors('job_not_found', 'invalid_job_state', 'provider_error', 'provider_unavailable')
  cancel(@CurrentUser() user: AuthenticatedUser, @UuidParam('id') id: string): Promise<JobView> {
    return this.jobs.cancel(user, id);
  }

  @Delete('jobs/:id')
  @MinLevel('researcher')
  @ApiOperation({ summary: 'Delete a finished job', description: 'Only a completed, failed or cancelled job.' })
  @ApiOkResponse({ type: DeletedJobView })
  @ApiErrors('job_not_found', 'invalid_job_state')
  remove(@CurrentUser() user: AuthenticatedUser, @UuidParam('id') id: string): Promise<DeletedJobView> {
    return this.jobs.remove(user, id);
  }

  @Get('cost-estimate')
  @MinLevel('viewer')
  @ApiOperation({
    summary: 'Estimate the cost of a job',
    description: "Mean duration of the organisation's completed jobs on the profile (90 days), else one hour.",
  })
  @ApiOkResponse({ type: CostEstimateView })
  costEstimate(@CurrentUser() user: AuthenticatedUser, @Query() q: CostEstimateQuery): Promise<CostEstimateView> {
    return this.jobs.costEstimate(user, q.hardware_profile);
  }
}
