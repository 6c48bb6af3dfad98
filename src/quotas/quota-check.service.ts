import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth';
import { QuotaExceededError } from '../common/errors';
import type { NewEvent } from '../events';
import { QuotaStep, type ApplicableQuotas, type QuotaMeasure, type QuotaOutcome, type SubmittedJob } from '../jobs';
import { getLogger } from '../logging';
import type { Quota } from './quota.entity';
import { standingsFrom, subjectReads, windowStarts } from './quota-meter.service';
import {
  applies,
  decide,
  describeQuota,
  isCostType,
  isWindowType,
  SUBJECT_ORDER,
  subjectOf,
  THRESHOLD_RATIO,
  type Standing,
  type Subject,
  type Submitter,
  type WindowType,
  windowOf,
} from './quota-rules';
import { QuotasRepository } from './quotas.repository';
import { QuotasService } from './quotas.service';
import {
  SpendRepository,
  usageBySubject,
  type GuardCondition,
  type SpendReadRow,
  type ThresholdMark,
} from './spend.repository';
import type { Statement } from '../database/locked-write';

const log = getLogger('simpletuner.cloud.quotas');

/** The quotas of one submit, as the check needs them. */
interface Applicable extends ApplicableQuotas {
  quotas: Quota[];
  who: Submitter;
  /** Whose submits to serialise, in the fixed lock order (user, org, provider). */
  subjects: Subject[];
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;
const markKey = (quotaId: string, subjectId: string) => `${quotaId}/${subjectId}`;

/**
 * The submit's quota step: finds the active quotas that apply (from memory); says which subjects to lock and what
 * to read under the locks (each subject's windows, and which 80 % notices went out already); decides from it.
 */
@Injectable()
export class QuotaCheck extends QuotaStep {
  constructor(
    private readonly quotas: QuotasService,
    private readonly spend: SpendRepository,
    private readonly repo: QuotasRepository,
  ) {
    super();
  }

  async applicable(user: AuthenticatedUser, provider: string): Promise<Applicable | null> {
    const who: Submitter = { userId: user.id, orgId: user.orgId, level: user.level, provider };
    // concurrent_jobs is the dispatcher's: a submit never waits on it.
    const quotas = (await this.quotas.active()).filter((q) => isWindowType(q.type) && applies(q, who));
    if (quotas.length === 0) return null;
    const subjects = new Map<string, Subject>();
    for (const q of quotas) {
      const s = subjectOf(q, who);
      subjects.set(`${s.kind}:${s.id}`, s);
    }
    const ordered = [...subjects.values()].sort(
      (a, b) => SUBJECT_ORDER.indexOf(a.kind) - SUBJECT_ORDER.indexOf(b.kind),
    );
    return { quotaIds: quotas.map((q) => q.id), quotas, who, subjects: ordered };
  }

  measure(applicable: ApplicableQuotas, now: Date): QuotaMeasure {
    const { quotas, who, subjects } = applicable as Applicable;
    const marks: ThresholdMark[] = quotas
      .filter((q) => isCostType(q.type))
      .map((q) => ({
        quota_id: q.id,
        subject_id: subjectOf(q, who).id,
        window_start: windowOf(q.type as WindowType, now).start,
      }));
    return {
      lockKeys: subjects.map((s) => `quota:${s.kind}:${s.id}`),
      read: this.spend.spendRead(subjectReads(quotas, who, now), windowStarts(now), marks),
    };
  }

  clear(applicable: ApplicableQuotas, job: SubmittedJob, rows: unknown[]): boolean {
    const { verdict, read } = this.verdictOf(applicable as Applicable, job, rows);
    const sent = new Set(read.marks.map((m) => markKey(m.quota_id, m.subject_id)));
    return (
      !verdict.block &&
      verdict.holds.length === 0 &&
      verdict.warns.length === 0 &&
      verdict.crossings.every((s) => sent.has(markKey(s.quota.id, s.subject.id)))
    );
  }

  guard(applicable: ApplicableQuotas, job: SubmittedJob): Statement {
    const { quotas, who } = applicable as Applicable;
    const now = job.submittedAt;
    const conditions = quotas.map((q): GuardCondition => {
      const type = q.type as WindowType;
      const subject = subjectOf(q, who);
      const cost = isCostType(type);
      return {
        subject: `${subject.kind}:${subject.id}`,
        type,
        requested: cost ? job.costEstimate : 1,
        limit: q.limit,
        mark: cost ? { quota_id: q.id, subject_id: subject.id, window_start: windowOf(type, now).start } : null,
        markAt: q.limit * THRESHOLD_RATIO,
      };
    });
    return this.spend.guard(subjectReads(quotas, who, now), windowStarts(now), conditions);
  }

  private verdictOf(applicable: Applicable, job: SubmittedJob, rows: unknown[]) {
    const { quotas, who } = applicable;
    const [read] = rows as SpendReadRow[];
    const standings = standingsFrom(
      quotas,
      who,
      usageBySubject(read.usage),
      { cost: job.costEstimate },
      job.submittedAt,
    );
    return { verdict: decide(standings), read };
  }

  decide(applicable: ApplicableQuotas, job: SubmittedJob, rows: unknown[]): QuotaOutcome {
    const { verdict, read } = this.verdictOf(applicable as Applicable, job, rows);
    const now = job.submittedAt;
    if (verdict.block) throw refusal(verdict.block, now);
    const owner = { jobId: job.jobId, userId: job.userId, orgId: job.orgId };
    const events: NewEvent[] = verdict.warns.map((s) => {
      log.warning(`Quota passed (warn): ${describeQuota(s.quota)}`, { job_id: job.jobId, ...amounts(s) });
      return { type: 'quota_warning', ...owner, data: { ...about(s.quota), limit: s.quota.limit, used: total(s) } };
    });
    // The subjects are locked until the commit: a notice not yet recorded is recorded by this submit alone.
    const sent = new Set(read.marks.map((m) => markKey(m.quota_id, m.subject_id)));
    const crossings = verdict.crossings.filter((s) => !sent.has(markKey(s.quota.id, s.subject.id)));
    for (const s of crossings) {
      log.info(`Quota past ${THRESHOLD_RATIO * 100} %: ${describeQuota(s.quota)}`, {
        job_id: job.jobId,
        ...amounts(s),
      });
      events.push({ type: 'quota_threshold', ...owner, data: thresholdData(s) });
    }
    const marks = crossings.map((s) => ({
      quota_id: s.quota.id,
      subject_id: s.subject.id,
      window_start: s.window.start,
    }));
    return {
      warnings: verdict.warns.map((s) => ({
        quota_id: s.quota.id,
        type: s.quota.type,
        limit: s.quota.limit,
        used: total(s),
      })),
      holdReason: verdict.holds.length
        ? verdict.holds
            .map((s) => `Quota requires approval: ${describeQuota(s.quota)} would reach ${total(s)}`)
            .join('; ')
        : null,
      events,
      write: marks.length ? this.repo.thresholdPart(marks) : null,
    };
  }
}

const total = (s: Standing) => round(s.used + s.requested);
const about = (q: Quota) => ({ quota_id: q.id, type: q.type, scope: q.scope, scope_id: q.scopeId });
const amounts = (s: Standing) => ({
  quota_id: s.quota.id,
  limit: s.quota.limit,
  used: round(s.used),
  requested: s.requested,
});

/** The data of a `quota_threshold` event (at a submit, or at a finished job's cost). */
export function thresholdData(s: Standing) {
  return {
    ...about(s.quota),
    subject_id: s.subject.id,
    limit: s.quota.limit,
    used: total(s),
    window_start: s.window.start.toISOString(),
    resets_at: s.resetsAt.toISOString(),
  };
}

/** 429 `quota_exceeded`: which quota, how full, and when it frees room (Retry-After). */
function refusal(s: Standing, now: Date): QuotaExceededError {
  const details = {
    ...about(s.quota),
    limit: s.quota.limit,
    used: round(s.used),
    requested: round(s.requested),
    resets_at: s.resetsAt.toISOString(),
  };
  log.info(`Submit refused by quota: ${describeQuota(s.quota)}`, amounts(s));
  const seconds = Math.max(1, Math.ceil((s.resetsAt.getTime() - now.getTime()) / 1000));
  return new QuotaExceededError(
    `Quota exceeded: ${describeQuota(s.quota)}; used ${details.used}, this submit adds ${details.requested}`,
    details,
    seconds,
  );
}
