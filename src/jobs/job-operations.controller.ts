import { Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { bulkSummary } from '../common/bulk';
import { UuidParam } from '../common/uuid-param';
import { ApiErrors, ApiIdempotentCreate } from '../openapi';
import { RateLimit } from '../rate-limits';
import { idempotencyFrom } from './idempotency';
import { JobBulkService } from './job-bulk.service';
import { BulkJobsDto, RetryJobDto } from './job-operations.dto';
import { BulkJobsView, RetriedJobView } from './job-operations.view';
import { JobRetryService } from './job-retry.service';

/** Retrying a finished job, and cancelling, deleting or retrying many jobs in one request. */
@ApiTags('Jobs')
@Controller('api/cloud/jobs')
export class JobOperationsController {
  constructor(
    private readonly retries: JobRetryService,
    private readonly bulk: JobBulkService,
  ) {}

  @Post(':id/retry')
  @MinLevel('researcher')
  // A retry is a submit: it shares the submit limit (one count per key and minute, across instances).
  @RateLimit('submit')
  @ApiOperation({
    summary: 'Retry a finished job',
    description:
      'A new job with the same inputs (config, dataloader and LyCORIS configs, dataset, profile, provider, priority), ' +
      "submitted as the old job's owner through quotas and approval rules like any submission; its `retry_of` is " +
      'the old job, whose view shows it as `retried_by`. Only a completed, failed or cancelled job; the owner, a lead ' +
      'of its organisation or an admin. Secrets are not kept after a job ends: give them again in `secrets` (400 ' +
      'names the missing ones). Retry-safe with the `Idempotency-Key` header, as a submission.',
  })
  @ApiIdempotentCreate({
    type: RetriedJobView,
    header: 'Makes the retry retry-safe (1–255 printable ASCII characters)',
    created: 'The new job was created',
    replayed: 'the first retry',
  })
  @ApiErrors('job_not_found', 'permission_denied', 'invalid_job_state', 'quota_exceeded')
  async retry(
    @CurrentUser() user: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Body() dto: RetryJobDto,
    @Headers('idempotency-key') idempotencyHeader: string | string[] | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RetriedJobView> {
    const result = await this.retries.retry(user, id, dto.secrets, idempotencyFrom(undefined, idempotencyHeader));
    res.status(result.created ? 201 : 200);
    if (!result.created) res.setHeader('Idempotent-Replayed', 'true');
    return result.body as RetriedJobView;
  }

  @Post('bulk')
  @HttpCode(200)
  @MinLevel('researcher')
  @ApiOperation({
    summary: 'Cancel, delete or retry many jobs',
    description:
      'Each id under the rules of its single route (`POST …/:id/cancel`, `DELETE …/:id`, `POST …/:id/retry` without ' +
      'secrets), answered on its own in `results`: an id that is unknown, not the caller’s to act on or in the ' +
      'wrong state fails alone and never stops or undoes the others. Up to 1,000 distinct ids.',
  })
  @ApiOkResponse({ type: BulkJobsView })
  async bulkAction(@CurrentUser() user: AuthenticatedUser, @Body() dto: BulkJobsDto): Promise<BulkJobsView> {
    return bulkSummary(await this.bulk.run(user, dto.action, dto.job_ids)) as BulkJobsView;
  }
}
