import { Inject, Injectable } from '@nestjs/common';
import { AccessPolicy, type AuthenticatedUser, UsersService } from '../auth';
import { AUDIT_RECORDER, type AuditRecorder } from '../common/audit';
import { ConflictError, InvalidJobStateError, PermissionDeniedError, ValidationError } from '../common/errors';
import { isTerminal, TERMINAL_STATUSES } from '../common/job-status';
import { getLogger } from '../logging';
import type { IdempotencyKey } from './idempotency';
import type { Job } from './job.entity';
import type { SubmitJobDto, SubmitSecretsDto } from './jobs.dto';
import { JobsService } from './jobs.service';
import { SubmitPipeline, type SubmitResult } from './pipeline/submit.pipeline';

const log = getLogger('simpletuner.cloud.jobs');

/** What a retry answers: the submit's answer, with the job it retries. */
export type RetryResult = SubmitResult & { body: SubmitResult['body'] & { retry_of: string } };

/** The submission that made `job`, to submit again: same inputs, the secrets given now (none are kept). */
function resubmission(job: Job, secrets: Record<string, string>): SubmitJobDto {
  const dataset = job.dataset
    ? job.dataset.upload_id
      ? { upload_id: job.dataset.upload_id }
      : { url: job.dataset.url }
    : null;
  return {
    config_name: job.configName,
    config: job.config,
    provider: job.provider,
    hardware_profile: job.hardwareProfile,
    priority: job.priority,
    max_runtime_seconds: job.maxRuntimeSeconds,
    ...(job.dataloaderConfig ? { dataloader_config: job.dataloaderConfig } : {}),
    ...(job.lycorisConfig ? { lycoris_config: job.lycorisConfig } : {}),
    ...(dataset ? { dataset } : {}),
    ...(job.hubModelId ? { hub_model_id: job.hubModelId } : {}),
    ...(job.maxTrainSteps ? { max_train_steps: job.maxTrainSteps } : {}),
    ...(Object.keys(secrets).length ? { secrets } : {}),
  };
}

/**
 * Retrying a finished job: a new job with the same inputs, submitted through the whole submit pipeline (validation,
 * quotas, approval rules, idempotency) as the old job's owner, linked to the old one (`retry_of`).
 */
@Injectable()
export class JobRetryService {
  constructor(
    private readonly jobs: JobsService,
    private readonly submissions: SubmitPipeline,
    private readonly users: UsersService,
    private readonly access: AccessPolicy,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
  ) {}

  /**
   * 404 when the caller cannot see the job, 403 when it may not act on it (a viewer), 409 while it is active, 400
   * naming the secrets the old job had and the request does not give again (they were deleted when it ended).
   */
  async retry(
    caller: AuthenticatedUser,
    jobId: string,
    secrets: SubmitSecretsDto | undefined,
    idempotency: IdempotencyKey | null = null,
  ): Promise<RetryResult> {
    const job = await this.jobs.findVisible(caller, jobId);
    if (!this.access.canAct(caller, job)) throw new PermissionDeniedError('You may not retry this job');
    if (!isTerminal(job.status)) {
      const message = `Only a finished job can be retried; job ${jobId} is ${job.status}`;
      throw new InvalidJobStateError(jobId, job.status, [...TERMINAL_STATUSES], message);
    }
    const given = Object.fromEntries(Object.entries(secrets ?? {}).filter(([, v]) => typeof v === 'string'));
    const missing = job.secretNames.filter((name) => !(name in given));
    if (missing.length > 0) {
      throw new ValidationError(`Secrets are not kept after a job ends: give ${missing.join(', ')} again`, {
        secrets: `missing ${missing.join(', ')}`,
      });
    }
    const submitter = await this.submitter(caller, job);
    const result = await this.submissions.submit(submitter, resubmission(job, given), idempotency, job.jobId);
    if (result.created) {
      await this.audit.record({
        actor: caller,
        action: 'job.retry',
        targetType: 'job',
        targetId: job.jobId,
        orgId: job.orgId,
        after: { retry_of: job.jobId, job_id: result.body.job_id, status: result.body.status },
      });
      log.info('Job retried', { job_id: job.jobId, new_job_id: result.body.job_id });
    }
    return { ...result, body: { ...result.body, retry_of: job.jobId } };
  }

  /**
   * Who submits the retry: the old job's owner (its quotas, rules and organisation apply, the usage stays theirs).
   * A lead or admin retrying someone else's job is recorded as the minter of the key it was submitted with, so
   * that, like anyone tied to a request, it cannot decide the approval the retry may need.
   */
  private async submitter(caller: AuthenticatedUser, job: Job): Promise<AuthenticatedUser> {
    if (caller.id === job.userId) return caller;
    const owner = await this.users.findById(job.userId);
    if (!owner?.isActive) {
      throw new ConflictError(`The owner of job ${job.jobId} is deactivated: the job cannot be retried`, {
        job_id: job.jobId,
      });
    }
    return {
      id: owner.id,
      username: owner.username,
      level: owner.level,
      orgId: owner.orgId,
      apiKeyId: caller.apiKeyId,
      keyCreatedBy: caller.id,
      userCreatedBy: owner.createdBy,
    };
  }
}
