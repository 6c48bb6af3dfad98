import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../../auth';
import { Clock } from '../../common/clock';
import { ConflictError, QuotaExceededError } from '../../common/errors';
import { isTerminal } from '../../common/job-status';
import { getCorrelationId } from '../../context';
import { CombinedWrites, type CombinedRows, type WritePart } from '../../database/combined-write';
import { LockedWriteAbandoned, LockedWrites } from '../../database/locked-write';
import { Transactional } from '../../database/transactional';
import { EventsService, type NewEvent } from '../../events';
import type { JobDataset } from '../../providers';
import { getLogger } from '../../logging';
import { IdempotencyKey, keyReusedError } from '../idempotency';
import { givenSecrets, type SubmitJobDto } from '../jobs.dto';
import { JobsRepository } from '../jobs.repository';
import { JobSecretsService } from '../job-secrets.service';
import { JobsService } from '../jobs.service';
import {
  ApprovalGateStep,
  QueueStep,
  QuotaStep,
  type ApplicableQuotas,
  type ApprovalHold,
  type QuotaOutcome,
  type QuotaWarning,
  type SubmittedJob,
} from './steps';
import { SubmitIntake, SubmitRequest } from './submit-intake.service';

const log = getLogger('simpletuner.cloud.jobs');
const IDEMPOTENCY_HOURS = 24;

export interface SubmitResult {
  created: boolean;
  body: {
    job_id: string;
    status: string;
    requires_approval: boolean;
    approval_id?: string;
    cost_estimate: number;
    queue_position: number | null;
    idempotent_hit?: true;
    warnings?: QuotaWarning[];
  };
}

/** A submit once every step has decided: what its rows are made of. */
interface Submission {
  user: AuthenticatedUser;
  job: SubmittedJob;
  dto: SubmitJobDto;
  request: SubmitRequest & { dataset: JobDataset | null };
  hold: ApprovalHold | null;
  idempotency: IdempotencyKey | null;
}

/** What the write left: the hold that applies, the entry's queue position, the quota warnings. */
interface Written {
  hold: ApprovalHold | null;
  position: number | null;
  warnings: QuotaWarning[];
}

const NO_QUOTAS: QuotaOutcome = { warnings: [], holdReason: null, events: [], write: null };

/** The queue position of the new entry (null while held for approval). */
const positionOf = (rows: CombinedRows<SubmitParts>) => (rows.entry[0]?.position as number | null | undefined) ?? null;

/** Another submit holds the key: the statement that wrote this one's rows rolls back. */
class KeyHeld extends Error {}

/** The rows one submit writes, part by part, each from the repository of its own table. */
type SubmitParts = 'job' | 'secrets' | 'key' | 'approval' | 'entry' | 'events' | 'quotas';

/**
 * What a submit does, in order. Each step is a method of an injected service with a typed input and result (the
 * gate, the quotas and the queue are the approvals, quotas and queue modules' own, bound in
 * src/job-pipeline-steps.module.ts); adding a step is one line here plus its service.
 *
 * Nothing is written until every step has decided: then the job, its idempotency key, its approval request, its
 * queue entry and its events go to the database in one statement, so a submit is one read and one write (with an
 * idempotency key, that write runs in a transaction that rolls back when another submit holds the key). When
 * quotas apply, their read and that write share a transaction that serialises the submits of the same user, org
 * and provider (two messages: lock and read; write and commit); a submit no quota applies to pays nothing for them.
 * What must follow the commit — the queue's wake-up, delivery to event streams — runs once it has committed.
 */
@Injectable()
export class SubmitPipeline {
  constructor(
    private readonly intake: SubmitIntake,
    private readonly approvals: ApprovalGateStep,
    private readonly quotas: QuotaStep,
    private readonly queue: QueueStep,
    private readonly repo: JobsRepository,
    private readonly events: EventsService,
    private readonly writes: CombinedWrites,
    private readonly lockedWrites: LockedWrites,
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
    const quotas = await this.quotas.applicable(user, job.provider); // 6. the quotas that apply (held in memory)
    const submission: Submission = { user, job, dto, request: { ...request, dataset }, hold, idempotency };
    let written: Written;
    try {
      // 7. the rows in one statement (job, secrets, key, approval request, queue entry, events); with quotas, after
      // they are checked in a transaction that serialises the subjects' submits. Wake-ups after the commit.
      written = quotas ? await this.writeGoverned(submission, quotas) : await this.writeRows(submission, NO_QUOTAS);
    } catch (err) {
      if (err instanceof QuotaExceededError) await this.quotaExceeded(job, err);
      if (!(err instanceof KeyHeld)) throw err;
      return this.replay(user, idempotency!, request.requestHash);
    }
    log.info('Job submitted successfully', {
      job_id: job.jobId,
      provider: job.provider,
      cost_estimate: job.costEstimate,
    });
    const held = written.hold;
    const body = {
      job_id: job.jobId,
      status: 'pending',
      requires_approval: held !== null,
      cost_estimate: job.costEstimate,
      ...(held ? { approval_id: held.approvalId } : {}),
      queue_position: written.position,
    };
    return { created: true, body: written.warnings.length ? { ...body, warnings: written.warnings } : body };
  }

  /**
   * The quotas' read and the rows in one transaction under advisory locks on the submitter's subjects (user, org,
   * provider, in that order) held until the commit: concurrent submits of a subject count each other's jobs and
   * cannot pass a limit together, on any instance. Two messages: lock and read; the rows and COMMIT.
   */
  private async writeGoverned(submission: Submission, quotas: ApplicableQuotas): Promise<Written> {
    const { job, idempotency } = submission;
    const { lockKeys, read } = this.quotas.measure(quotas, job);
    let decided: { hold: ApprovalHold | null; outcome: QuotaOutcome } | undefined;
    try {
      const rows = await this.lockedWrites.run(lockKeys, read, (measured) => {
        const outcome = this.quotas.decide(quotas, job, measured); // 429 when a block quota would be passed
        const hold = outcome.holdReason
          ? this.approvals.holdForQuota(job, outcome.holdReason, submission.hold)
          : submission.hold;
        decided = { hold, outcome };
        const parts = this.rows({ ...submission, hold }, outcome);
        // With an idempotency key, the rows commit only if this submit took the key.
        return { parts, commitIf: idempotency ? (written) => written.key.length > 0 : undefined };
      });
      const { hold, outcome } = decided!;
      return { hold, position: positionOf(rows), warnings: outcome.warnings };
    } catch (err) {
      if (err instanceof LockedWriteAbandoned) throw new KeyHeld();
      throw err;
    }
  }

  private async writeRows(submission: Submission, outcome: QuotaOutcome): Promise<Written> {
    const position = await this.write(this.rows(submission, outcome));
    return { hold: submission.hold, position, warnings: outcome.warnings };
  }

  /** A refused submit leaves its notice (the transaction that would have written the job rolled back). */
  private async quotaExceeded(job: SubmittedJob, err: QuotaExceededError): Promise<void> {
    await this.events.publish({ type: 'quota_exceeded', userId: job.userId, orgId: job.orgId, data: err.details });
  }

  private rows(
    { user, job, dto, request, hold, idempotency }: Submission,
    quotas: QuotaOutcome,
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
        dataloaderConfig: dto.dataloader_config ?? null,
        lycorisConfig: dto.lycoris_config ?? null,
        dataset: request.dataset,
        hubModelId: dto.hub_model_id ?? null,
        maxTrainSteps: dto.max_train_steps ?? null,
        secretNames: Object.keys(givenSecrets(dto)),
      }),
      secrets: this.secrets.sealPart(job.jobId, givenSecrets(dto)),
      key: idempotency
        ? this.repo.claimKeyPart(job.userId, idempotency.key, job.jobId, request.requestHash, IDEMPOTENCY_HOURS)
        : null,
      approval: hold?.write ?? null,
      entry: this.queue.enqueue(job, hold !== null),
      events: this.events.publishPart([submitted, ...(hold?.events ?? []), ...quotas.events]),
      quotas: quotas.write,
    };
  }

  /** The rows in one statement; the queue position of the new entry (null while held for approval). */
  private async write(parts: Record<SubmitParts, WritePart | null>): Promise<number | null> {
    return positionOf(parts.key ? await this.writeClaimingKey(parts) : await this.writes.run(parts));
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
        idempotent_hit: true,
      },
    };
  }
}

function bodyKey(dto: SubmitJobDto): IdempotencyKey | null {
  return dto.idempotency_key ? { key: dto.idempotency_key, source: 'body' } : null;
}
