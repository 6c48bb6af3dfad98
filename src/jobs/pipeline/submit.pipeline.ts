import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../../auth';
import { Clock } from '../../common/clock';
import { ConflictError } from '../../common/errors';
import { isTerminal } from '../../common/job-status';
import { getCorrelationId } from '../../context';
import { CombinedWrites, type WritePart } from '../../database/combined-write';
import { Transactional } from '../../database/transactional';
import { EventsService, type NewEvent } from '../../events';
import type { JobDataset } from '../../providers';
import { getLogger } from '../../logging';
import { IdempotencyKey, keyReusedError } from '../idempotency';
import { givenSecrets, type SubmitJobDto } from '../jobs.dto';
import { JobsRepository } from '../jobs.repository';
import { JobSecretsService } from '../job-secrets.service';
import { JobsService } from '../jobs.service';
import { trainerInputs, type TrainerInputs } from '../job-view';
import type { TrainerInputsView } from '../jobs.view';
import { ApprovalGateStep, ApprovalHold, QueueStep, SubmittedJob } from './steps';
import { SubmitIntake, SubmitRequest } from './submit-intake.service';

const log = getLogger('simpletuner.cloud.jobs');
const IDEMPOTENCY_HOURS = 24;

export interface SubmitResult {
  created: boolean;
  body: TrainerInputsView & {
    job_id: string;
    status: string;
    requires_approval: boolean;
    approval_id?: string;
    cost_estimate: number;
    queue_position: number | null;
    idempotent_hit?: true;
  };
}

/** Another submit holds the key: the statement that wrote this one's rows rolls back. */
class KeyHeld extends Error {}

/** The rows one submit writes, part by part, each from the repository of its own table. */
type SubmitParts = 'job' | 'secrets' | 'key' | 'approval' | 'entry' | 'events';

/**
 * What a submit does, in order. Each step is a method of an injected service with a typed input and result (the
 * gate and the queue are the approvals and queue modules' own, bound in src/job-pipeline-steps.module.ts); adding a
 * step is one line here plus its service.
 *
 * Nothing is written until every step has decided: then the job, its idempotency key, its approval request, its
 * queue entry and its events go to the database in one statement, so a submit is one read and one write (with an
 * idempotency key, that write runs in a transaction that rolls back when another submit holds the key). What must
 * follow the commit — the queue's wake-up, delivery to event streams — runs once it has committed.
 */
@Injectable()
export class SubmitPipeline {
  constructor(
    private readonly intake: SubmitIntake,
    private readonly approvals: ApprovalGateStep,
    private readonly queue: QueueStep,
    private readonly repo: JobsRepository,
    private readonly events: EventsService,
    private readonly writes: CombinedWrites,
    private readonly jobs: JobsService,
    private readonly clock: Clock,
    private readonly secrets: JobSecretsService,
  ) {}

  async submit(user: AuthenticatedUser, dto: SubmitJobDto, idempotency = bodyKey(dto)): Promise<SubmitResult> {
    const request = this.intake.validate(user, dto); // 1. validate: 400/403 before any database work
    const dataset = await this.intake.dataset(user, dto); // 2. the dataset: a URL, or the user's own upload
    const now = this.clock.now();
    const facts = await this.repo.submitFacts(user.id, user.orgId, request.profile, now); // 3. the one read
    const job = await this.intake.price(user, dto, request, facts.history, now); // 4. price
    const submitter = { hasEarlierJob: facts.hasJob, jobsLast24h: facts.lastDay + 1 };
    const hold = await this.approvals.evaluate(job, user, submitter); // 5. gate: a rule may hold it for a person
    // 6. the rows: job (+ its sealed secrets), idempotency key, approval request, queue entry, events
    const parts = this.rows(user, job, dto, { ...request, dataset }, hold, idempotency);
    let position: number | null;
    try {
      position = await this.write(parts); // 7. one statement; wake-ups after the commit
    } catch (err) {
      if (!(err instanceof KeyHeld)) throw err;
      return this.replay(user, idempotency!, request.requestHash);
    }
    log.info('Job submitted successfully', {
      job_id: job.jobId,
      provider: job.provider,
      cost_estimate: job.costEstimate,
    });
    const body = {
      job_id: job.jobId,
      status: 'pending',
      requires_approval: hold !== null,
      cost_estimate: job.costEstimate,
    };
    return {
      created: true,
      body: {
        ...body,
        ...(hold ? { approval_id: hold.approvalId } : {}),
        queue_position: position,
        ...trainerInputs(submittedInputs(dto, dataset)),
      },
    };
  }

  private rows(
    user: AuthenticatedUser,
    job: SubmittedJob,
    dto: SubmitJobDto,
    request: SubmitRequest & { dataset: JobDataset | null },
    hold: ApprovalHold | null,
    idempotency: IdempotencyKey | null,
  ): Record<SubmitParts, WritePart | null> {
    const submitted: NewEvent = {
      type: 'job_submitted',
      jobId: job.jobId,
      userId: job.userId,
      orgId: job.orgId,
      data: {
        status: 'pending',
        provider: job.provider,
        config_name: job.configName,
        cost_estimate: job.costEstimate,
        requires_approval: hold !== null,
      },
    };
    return {
      job: this.repo.insertPart({
        ...job,
        config: dto.config,
        approvalId: hold?.approvalId ?? null,
        correlationId: getCorrelationId(),
        maxRuntimeSeconds: request.maxRuntimeSeconds,
        idempotencyKey: idempotency?.key ?? null,
        requestHash: request.requestHash,
        // Who submitted with which key: an approver must be independent of both (AccessPolicy).
        submittedKeyId: user.apiKeyId,
        submittedKeyMintedBy: user.keyCreatedBy ?? null,
        ...submittedInputs(dto, request.dataset),
      }),
      secrets: this.secrets.sealPart(job.jobId, givenSecrets(dto)),
      key: idempotency
        ? this.repo.claimKeyPart(job.userId, idempotency.key, job.jobId, request.requestHash, IDEMPOTENCY_HOURS)
        : null,
      approval: hold?.write ?? null,
      entry: this.queue.enqueue(job, hold !== null),
      events: this.events.publishPart([submitted, ...(hold?.events ?? [])]),
    };
  }

  /** The rows in one statement; the queue position of the new entry (null while held for approval). */
  private async write(parts: Record<SubmitParts, WritePart | null>): Promise<number | null> {
    const rows = parts.key ? await this.writeClaimingKey(parts) : await this.writes.run(parts);
    return (rows.entry[0]?.position as number | null | undefined) ?? null;
  }

  /** With an idempotency key the statement runs in a transaction: it rolls back if another job holds the key. */
  @Transactional()
  private async writeClaimingKey(parts: Record<SubmitParts, WritePart | null>) {
    const rows = await this.writes.run(parts);
    if (rows.key.length === 0) throw new KeyHeld();
    return rows;
  }

  /** The key's first job, when this request is the same one again (else 409/422). */
  private async replay(
    user: AuthenticatedUser,
    idempotency: IdempotencyKey,
    requestHash: string,
  ): Promise<SubmitResult> {
    const held = await this.repo.findIdempotencyKey(user.id, idempotency.key, IDEMPOTENCY_HOURS);
    if (!held) throw new ConflictError('Idempotency key is being used by another request; retry');
    if (held.requestHash !== requestHash) throw keyReusedError(idempotency.source, held.jobId);
    const job = await this.jobs.findVisible(user, held.jobId);
    const position = isTerminal(job.status) ? undefined : (await this.queue.positions([job.jobId])).get(job.jobId);
    return {
      created: false,
      body: {
        job_id: job.jobId,
        status: job.status,
        requires_approval: job.requiresApproval,
        ...(job.approvalId ? { approval_id: job.approvalId } : {}),
        cost_estimate: job.costEstimate,
        queue_position: position ?? null,
        ...trainerInputs(job),
        idempotent_hit: true,
      },
    };
  }
}

/** The trainer inputs a submission gives, as the job's row keeps them (its secrets by name). */
function submittedInputs(dto: SubmitJobDto, dataset: JobDataset | null): TrainerInputs {
  return {
    dataloaderConfig: dto.dataloader_config ?? null,
    lycorisConfig: dto.lycoris_config ?? null,
    dataset,
    hubModelId: dto.hub_model_id ?? null,
    maxTrainSteps: dto.max_train_steps ?? null,
    secretNames: Object.keys(givenSecrets(dto)),
  };
}

function bodyKey(dto: SubmitJobDto): IdempotencyKey | null {
  return dto.idempotency_key ? { key: dto.idempotency_key, source: 'body' } : null;
}
