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
import { JobsRepository, toSubmitFacts, type SubmitFacts } from '../jobs.repository';
import { JobSecretsService } from '../job-secrets.service';
import { JobsService } from '../jobs.service';
import {
  ApprovalGateStep,
  QueueStep,
  QuotaStep,
  type ApplicableQuotas,
  type ApprovalHold,
  type GateRules,
  type QuotaOutcome,
  type QuotaWarning,
  type SubmittedJob,
} from './steps';
import { trainerInputs, type TrainerInputs } from '../job-view';
import type { TrainerInputsView } from '../jobs.view';
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
    warnings?: QuotaWarning[];
  };
}

/** A validated request, before anything is read: its time is the clock's, read once. */
interface Intake {
  user: AuthenticatedUser;
  dto: SubmitJobDto;
  request: SubmitRequest & { dataset: JobDataset | null };
  idempotency: IdempotencyKey | null;
  now: Date;
  /** The job this submit retries (POST /api/cloud/jobs/:id/retry). */
  retryOf: string | null;
}

/** A submit once it is priced and the gate has spoken: what its rows are made of. */
interface Submission extends Intake {
  job: SubmittedJob;
  hold: ApprovalHold | null;
}

/** What a submit decides with, loaded before it reads. */
interface Loaded {
  overrides: Awaited<ReturnType<SubmitIntake['pricing']>>;
  rules: GateRules;
}

/** What the write left: the job, the hold that applies, the entry's queue position, the quota warnings. */
interface Written {
  job: SubmittedJob;
  hold: ApprovalHold | null;
  position: number | null;
  warnings: QuotaWarning[];
}

const NO_QUOTAS: QuotaOutcome = { warnings: [], holdReason: null, events: [], write: null };

/** With an idempotency key, the rows commit only if this submit took the key. */
const keyTaken = (idempotency: IdempotencyKey | null) =>
  idempotency ? (rows: CombinedRows<SubmitParts>) => rows.key.length > 0 : undefined;

/** A locked write rolled back because another submit holds the key: replay that one. */
function keyHeld(err: unknown): never {
  throw err instanceof LockedWriteAbandoned ? new KeyHeld() : err;
}

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

  /** `retryOf`: the job this submit retries (JobOperationsService.retry); its row links to it. */
  async submit(
    user: AuthenticatedUser,
    dto: SubmitJobDto,
    idempotency = bodyKey(dto),
    retryOf: string | null = null,
  ): Promise<SubmitResult> {
    const request = this.intake.validate(user, dto, this.clock.now()); // 1. validate: 400/403 before any database work
    const dataset = await this.intake.dataset(user, dto); // 2. the dataset: a URL, or the user's own upload
    const quotas = await this.quotas.applicable(user, request.provider); // 3. the quotas that apply (in memory)
    const intake: Intake = { user, dto, request: { ...request, dataset }, idempotency, now: this.clock.now(), retryOf };
    let written: Written;
    try {
      // 4. the one read, 5. price, 6. gate, 7. quotas, 8. the rows in one statement (wake-ups after the commit)
      written = quotas ? await this.submitGoverned(intake, quotas) : await this.submitPlain(intake);
    } catch (err) {
      if (err instanceof QuotaExceededError) await this.quotaExceeded(user, err);
      if (!(err instanceof KeyHeld)) throw err;
      return this.replay(user, idempotency!, request.requestHash);
    }
    const { job, hold, position, warnings } = written;
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
      ...(hold ? { approval_id: hold.approvalId } : {}),
      queue_position: position,
    };
    const shown = { ...body, ...trainerInputs(submittedInputs(dto, dataset)) };
    return { created: true, body: warnings.length ? { ...shown, warnings } : shown };
  }

  /** No quota applies: the read, then the rows in one statement. */
  private async submitPlain(intake: Intake): Promise<Written> {
    const { user, request, now } = intake;
    const loaded = await this.load(intake);
    const facts = await this.repo.submitFacts(user.id, user.orgId, request.profile, now); // the one read
    const submission = this.decide(intake, facts, loaded);
    const position = await this.write(this.rows(submission, NO_QUOTAS));
    return { job: submission.job, hold: submission.hold, position, warnings: [] };
  }

  /**
   * Quotas apply. Far from its limits (the common case), a submit reads its facts and the quotas' windows without
   * locks, and writes in one message under advisory locks on its subjects (user, org, provider, in that order),
   * guarded: if the windows no longer leave it clear, nothing is written and it decides again under the locks
   * (submitLocked). Either way the locks are held until the commit, so concurrent submits of a subject count each
   * other's jobs and cannot pass a limit together, on any instance; and in the guarded write the locks are held
   * for the database's work only, not while this process decides.
   */
  private async submitGoverned(intake: Intake, quotas: ApplicableQuotas): Promise<Written> {
    const { user, request, now, idempotency } = intake;
    const loaded = await this.load(intake);
    const { lockKeys, read } = this.quotas.measure(quotas, now);
    const facts = this.repo.submitFactsStatement(user.id, user.orgId, request.profile, now);
    const [factRows, quotaRows] = await this.lockedWrites.read([facts, read]);
    const submission = this.decide(intake, toSubmitFacts(factRows), loaded);
    if (this.quotas.clear(quotas, submission.job, quotaRows)) {
      const plan = { parts: this.rows(submission, NO_QUOTAS), commitIf: keyTaken(idempotency) };
      const rows = await this.lockedWrites
        .tryGuarded(lockKeys, this.quotas.guard(quotas, submission.job), plan)
        .catch(keyHeld);
      if (rows) return { job: submission.job, hold: submission.hold, position: positionOf(rows), warnings: [] };
    }
    return this.submitLocked(intake, quotas, loaded);
  }

  /**
   * Near a limit: one transaction in two messages — the locks and both reads (the submit's and the quotas'
   * windows), then, once everything is decided from them, the rows and the COMMIT.
   */
  private async submitLocked(intake: Intake, quotas: ApplicableQuotas, loaded: Loaded): Promise<Written> {
    const { user, request, now, idempotency } = intake;
    const { lockKeys, read } = this.quotas.measure(quotas, now);
    const facts = this.repo.submitFactsStatement(user.id, user.orgId, request.profile, now);
    let written: Omit<Written, 'position'> | undefined;
    const rows = await this.lockedWrites
      .run(lockKeys, [facts, read], ([factRows, quotaRows]) => {
        const submission = this.decide(intake, toSubmitFacts(factRows), loaded);
        const { job } = submission;
        const outcome = this.quotas.decide(quotas, job, quotaRows); // 429 when a block quota would be passed
        const hold = outcome.holdReason
          ? this.approvals.holdForQuota(job, outcome.holdReason, submission.hold)
          : submission.hold;
        written = { job, hold, warnings: outcome.warnings };
        return { parts: this.rows({ ...submission, hold }, outcome), commitIf: keyTaken(idempotency) };
      })
      .catch(keyHeld);
    return { ...written!, position: positionOf(rows) };
  }

  /** What pricing and the gate read from memory (the provider's prices, the rules that may apply). */
  private async load(intake: Intake): Promise<Loaded> {
    const { user, request } = intake;
    const [overrides, rules] = await Promise.all([
      this.intake.pricing(request.provider),
      this.approvals.prepare(user, request.provider),
    ]);
    return { overrides, rules };
  }

  /** 5. price (from the org's history) and 6. the gate: a rule may hold the job for a person. No database. */
  private decide(intake: Intake, facts: SubmitFacts, loaded: Loaded): Submission {
    const { user, dto, request, now } = intake;
    const job = this.intake.priceWith(loaded.overrides, user, dto, request, facts.history, now);
    const submitter = { hasEarlierJob: facts.hasJob, jobsLast24h: facts.lastDay + 1 };
    return { ...intake, job, hold: this.approvals.evaluateWith(loaded.rules, job, user, submitter) };
  }

  /** A refused submit leaves its notice (the transaction that would have written the job rolled back). */
  private async quotaExceeded(user: AuthenticatedUser, err: QuotaExceededError): Promise<void> {
    await this.events.publish({ type: 'quota_exceeded', userId: user.id, orgId: user.orgId, data: err.details });
  }

  private rows(
    { user, job, dto, request, hold, idempotency, retryOf }: Submission,
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
        ...(retryOf ? { retry_of: retryOf } : {}),
      },
    };
    return {
      job: this.repo.insertPart({
        ...job,
        config: dto.config,
        approvalId: hold?.approvalId ?? null,
        correlationId: getCorrelationId(),
        maxRuntimeSeconds: request.maxRuntimeSeconds,
        startAfter: request.startAfter,
        maxWaitSeconds: request.maxWaitSeconds,
        idempotencyKey: idempotency?.key ?? null,
        requestHash: request.requestHash,
        // Who submitted with which key: an approver must be independent of both (AccessPolicy).
        submittedKeyId: user.apiKeyId,
        submittedKeyMintedBy: user.keyCreatedBy ?? null,
        retryOf,
        ...submittedInputs(dto, request.dataset),
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
