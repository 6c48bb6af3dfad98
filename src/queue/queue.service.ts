import { randomBytes } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config';
import { inJobScope, Job, JobRecordsService } from '../jobs';
import { getLogger } from '../logging';
import { Clock } from '../common/clock';
import { DispatchOutcome, QueueDispatcher } from './queue-dispatcher';
import { QueueEntriesService } from './queue-entries.service';
import { QueueLimits, QueueLimitsService } from './queue-limits.service';
import { Candidate, ClaimQueries, ClaimRepository, ClaimView } from './claim.repository';
import { QueueRepository } from './queue.repository';
import { DispatchGate, type GateCheck } from './dispatch-gate';
import { QueueWaitsService } from './queue-waits.service';

const log = getLogger('simpletuner.cloud.queue');

/** Serialises the claim across instances: SKIP LOCKED alone lets two instances count the same free slot. */
const CLAIM_LOCK = 'simpletuner.queue.claim';
/** Entries claimed per round; a tick claims again while rounds come back full. */
const CLAIM_BATCH = 100;
const MAX_ROUNDS = 10;
/** Rounds whose provider calls may be in flight at once: the next round is claimed while one is submitting. */
const ROUNDS_IN_FLIGHT = 2;
const RECONCILE_BATCH = 50;
/** How deep the fast path reads into the dispatch order before handing over to the per-user read. */
const HEAD_EXAMINE = 2000;
/** Entries read per free slot: limits filling within the batch skip some. */
const HEAD_MARGIN = 3;

export interface TickSummary {
  tick_id: string;
  aged: number;
  claimed: number;
  dispatched: number;
  retried: number;
  failed: number;
  unknown: number;
  lost: number;
  /** Scheduled entries whose start came (pending from this tick on) */
  released_scheduled: number;
  /** Jobs cancelled because they were not dispatched within their max_wait_seconds */
  wait_expired: number;
  reconciled: { adopted: number; redispatched: number; failed: number };
  /** Time in the claim transactions (under the lock), and the rest of claiming + dispatching (submit + record). */
  claim_ms: number;
  dispatch_ms: number;
  duration_ms: number;
}

interface Claim {
  /** Claimed job ids, in dispatch order. */
  jobIds: string[];
  jobs: Map<string, Job>;
  aged: number;
  /** More could be claimed at once: the batch was full and the limits had more room than one batch. */
  more: boolean;
  /** Some entry is stale in `dispatching` (its dispatcher went quiet). */
  stale: boolean;
}

/** The queue's rules: claim under the lock, dispatch outside it, release on terminal status. */
@Injectable()
export class QueueService implements OnModuleInit {
  /** Ticks running in this process, and whether a slot was released meanwhile (the tick then goes round again). */
  private ticking = 0;
  private wokenDuringTick = false;
  private readonly runningTicks = new Set<Promise<TickSummary>>();

  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobRecordsService,
    private readonly repo: QueueRepository,
    private readonly claims: ClaimRepository,
    private readonly entries: QueueEntriesService,
    private readonly limits: QueueLimitsService,
    private readonly dispatcher: QueueDispatcher,
    private readonly waits: QueueWaitsService,
    private readonly clock: Clock,
    private readonly gate: DispatchGate,
  ) {}

  onModuleInit(): void {
    // A release during a tick would find the scheduler busy and be lost until the next interval: go round again.
    this.entries.onWake(() => {
      if (this.ticking > 0) this.wokenDuringTick = true;
    });
  }

  /** Dispatch grace: a `dispatching` entry older than this lost its dispatcher (longer than any create call). */
  get dispatchGraceMs(): number {
    return Math.max(60, 2 * this.config.env.SIMPLETUNER_HTTP_TIMEOUT) * 1000;
  }

  /**
   * One processing tick, safe with several instances: claim batches under the advisory lock, submit each claimed job
   * concurrently outside any transaction, record the outcomes; when a claim saw a stalled dispatch, reconcile it and
   * claim again.
   */
  async processTick(
    now: Date = this.clock.now(),
    tickId: string = randomBytes(6).toString('hex'),
  ): Promise<TickSummary> {
    const own = this.runTick(now, tickId);
    this.runningTicks.add(own);
    try {
      return await own;
    } finally {
      this.runningTicks.delete(own);
    }
  }

  /**
   * A tick asked for over the API (POST /api/queue/process). A tick already running here may hold the entries this
   * one finds claimed: it returns once those are recorded too, so "the queue has been worked" rather than "this tick
   * found nothing".
   */
  async processNow(): Promise<TickSummary> {
    const earlier = [...this.runningTicks];
    const summary = await this.processTick(this.clock.now());
    await Promise.allSettled(earlier);
    return summary;
  }

  private async runTick(now: Date, tickId: string): Promise<TickSummary> {
    const started = process.hrtime.bigint();
    const summary: TickSummary = {
      tick_id: tickId,
      aged: 0,
      claimed: 0,
      dispatched: 0,
      retried: 0,
      failed: 0,
      unknown: 0,
      lost: 0,
      released_scheduled: 0,
      wait_expired: 0,
      reconciled: { adopted: 0, redispatched: 0, failed: 0 },
      claim_ms: 0,
      dispatch_ms: 0,
      duration_ms: 0,
    };
    this.ticking++;
    try {
      const waits = await this.waits.run(now);
      summary.released_scheduled = waits.released;
      summary.wait_expired = waits.expired;
      for (let pass = 0; pass < 5; pass++) {
        this.wokenDuringTick = false;
        if (await this.claimAndDispatch(now, `${tickId}:${pass}`, tickId, summary)) {
          // The claim saw dispatches whose dispatcher went quiet: reconciled, then what they freed or put back
          // pending is claimed in this same tick.
          await this.reconcileStale(now, tickId, summary);
          await this.claimAndDispatch(now, `${tickId}:${pass}:reconciled`, tickId, summary);
        }
        if (!this.wokenDuringTick) break;
        now = new Date(Math.max(now.getTime(), this.clock.now().getTime()));
      }
    } finally {
      this.ticking--;
    }
    summary.duration_ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (summary.claimed > 0 || summary.reconciled.adopted + summary.reconciled.redispatched > 0) {
      log.info('Queue tick dispatched jobs', { ...summary });
    }
    return summary;
  }

  /**
   * Claims round after round while rounds come back full, the next claimed while the previous one's provider calls
   * are in flight: with a slow provider (a create takes hundreds of milliseconds) a tick of many rounds costs about
   * half as many call latencies, while at most ROUNDS_IN_FLIGHT batches of creates run at once. Returns whether a claim
   * saw a stale dispatch (see reconcileStale).
   */
  private async claimAndDispatch(now: Date, tokenBase: string, tickId: string, summary: TickSummary): Promise<boolean> {
    const started = process.hrtime.bigint();
    const inFlight: Promise<void>[] = [];
    let claimMs = 0;
    let stale = false;
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        if (inFlight.length >= ROUNDS_IN_FLIGHT) await inFlight[inFlight.length - ROUNDS_IN_FLIGHT];
        const token = `${tokenBase}:${round}`;
        const t0 = process.hrtime.bigint();
        const claim = await this.claim(now, token);
        claimMs += Number(process.hrtime.bigint() - t0) / 1e6;
        summary.aged += claim.aged;
        stale ||= claim.stale;
        summary.claimed += claim.jobIds.length;
        if (claim.jobIds.length > 0) {
          inFlight.push(
            this.dispatcher
              .dispatchBatch(claim.jobIds, claim.jobs, token, now, tickId)
              .then((outcomes) => outcomes.forEach((o) => this.count(summary, o)))
              // Outcomes not recorded leave their entries `dispatching`: the reconcile pass takes them up.
              .catch((error) => log.error('Dispatching a claimed batch failed', { error })),
          );
        }
        if (!claim.more) break;
      }
    } finally {
      // Even when a later claim fails, the rounds already claimed finish before the tick ends (shutdown waits on it).
      await Promise.all(inFlight);
      summary.claim_ms += claimMs;
      summary.dispatch_ms += Number(process.hrtime.bigint() - started) / 1e6 - claimMs;
    }
    return stale;
  }

  private count(s: TickSummary, o: DispatchOutcome): void {
    if (o === 'dispatched') s.dispatched++;
    else if (o === 'retry') s.retried++;
    else if (o === 'failed') s.failed++;
    else if (o === 'unknown') s.unknown++;
    else if (o === 'lost') s.lost++;
  }

  /** Runs fn in the job's log scope; an unexpected error leaves the entry `dispatching` for reconcile. */
  private async guarded(
    job: Job | undefined,
    tickId: string,
    fn: (job: Job) => Promise<DispatchOutcome>,
  ): Promise<DispatchOutcome> {
    if (!job) return 'lost';
    return inJobScope(job, { step: 'dispatch', tickId }, async () => {
      try {
        return await fn(job);
      } catch (err) {
        log.error('Failed to record dispatch outcome', { error: err });
        return 'unknown';
      }
    });
  }

  /**
   * The claim commits `dispatching` under the lock (ClaimRepository.claim: one transaction, usually one message); the
   * claimed jobs are read after it, outside the lock.
   */
  private async claim(now: Date, token: string): Promise<Claim> {
    const limits = await this.limits.current();
    const gated = await this.gate.active();
    const input = {
      now,
      starvationMinutes: this.config.enterprise.starvationMinutes,
      limits,
      batch: CLAIM_BATCH,
      margin: HEAD_MARGIN,
      examine: HEAD_EXAMINE,
      staleBefore: new Date(now.getTime() - this.dispatchGraceMs),
      gated,
    };
    const { view, claimed } = await this.claims.claim(CLAIM_LOCK, input, token, async (v, more) =>
      this.choose(limits, v, more, gated ? await this.gate.open((sql, params) => more.read(sql, params), now) : null),
    );
    const jobs = await this.jobs.read(claimed);
    const inUse = view.slots.reduce((n, s) => n + s.n, 0);
    return {
      jobIds: claimed,
      jobs: new Map(jobs.map((j) => [j.jobId, j])),
      aged: view.aged,
      // A full batch, and the limits had room for more than one: claim again at once.
      more: claimed.length === CLAIM_BATCH && limits.maxConcurrent - inUse > CLAIM_BATCH,
      stale: view.stale,
    };
  }

  /**
   * Highest effective priority first, oldest first within a level, skipping users and orgs at their limit and
   * entries a quota holds (`gate`, read under the claim's lock like the slots).
   */
  private async choose(
    limits: QueueLimits,
    view: ClaimView,
    more: ClaimQueries,
    gate: GateCheck | null,
  ): Promise<string[]> {
    const byUser = new Map<string, number>();
    const byOrg = new Map<string, number>();
    let total = 0;
    for (const s of view.slots) {
      byUser.set(s.userId, (byUser.get(s.userId) ?? 0) + s.n);
      byOrg.set(s.orgId, (byOrg.get(s.orgId) ?? 0) + s.n);
      total += s.n;
    }
    const room = Math.min(CLAIM_BATCH, limits.maxConcurrent - total);
    if (room <= 0) return [];
    const take = async (candidates: Candidate[]) => {
      await gate?.load(candidates);
      return pick(candidates, limits, room, byUser, byOrg, gate?.tally());
    };
    // Fast path: the head of the dispatch order usually fills the batch (users at their limit are skipped in SQL).
    let chosen = await take(view.head);
    // Short of the batch: final if the head held every pending entry; else the head was cut (margin or depth).
    if (chosen.length < room && (view.head.length === view.headLimit || (await more.pendingAtLeast(HEAD_EXAMINE)))) {
      // The head could not fill the batch: each user's best entries instead, one index probe per user. Only the
      // best few can be taken; org limits filling within this batch may skip some, so read a margin first.
      const fullUsers = [...byUser].filter(([, n]) => n >= limits.userMaxConcurrent).map(([id]) => id);
      const fullOrgs = [...byOrg].filter(([, n]) => n >= limits.orgMaxConcurrent).map(([id]) => id);
      fullUsers.push(...(gate?.fullUsers ?? []));
      fullOrgs.push(...(gate?.fullOrgs ?? []));
      const perUser = Math.min(limits.userMaxConcurrent, room);
      const margin = room * HEAD_MARGIN;
      let candidates = await more.candidates(perUser, fullUsers, fullOrgs, margin);
      chosen = await take(candidates);
      if (chosen.length < room && candidates.length === margin) {
        candidates = await more.candidates(perUser, fullUsers, fullOrgs, null);
        chosen = await take(candidates);
      }
    }
    return chosen;
  }

  private async reconcileStale(now: Date, tickId: string, summary: TickSummary): Promise<void> {
    const token = `${tickId}:reconcile`;
    const cutoff = new Date(now.getTime() - this.dispatchGraceMs);
    // One statement, so no transaction of its own; run only when the claim's read saw a stale entry.
    const stale = await this.repo.takeOverStale(cutoff, now, token, RECONCILE_BATCH);
    if (stale.length === 0) return;
    const jobs = new Map((await this.jobs.read(stale.map((e) => e.jobId))).map((j) => [j.jobId, j]));
    const outcomes = await Promise.all(
      stale.map((entry) =>
        this.guarded(jobs.get(entry.jobId), tickId, async (job) => {
          try {
            return await this.dispatcher.reconcile(entry, job, token, now);
          } catch (err) {
            log.warning('Could not reconcile an interrupted dispatch; will retry', { error: err });
            return 'unknown';
          }
        }),
      ),
    );
    for (const o of outcomes) {
      if (o === 'adopted') summary.reconciled.adopted++;
      else if (o === 'redispatch') summary.reconciled.redispatched++;
      else if (o === 'failed') summary.reconciled.failed++;
    }
  }
}

/**
 * Takes candidates (in dispatch order) while there is room, skipping users and orgs at their limit and entries
 * `held` by a quota (asked last: an entry it lets through counts against the quotas from then on).
 */
function pick(
  candidates: Candidate[],
  limits: QueueLimits,
  room: number,
  usedByUser: Map<string, number>,
  usedByOrg: Map<string, number>,
  held?: (c: Candidate) => string | null,
): string[] {
  const byUser = new Map(usedByUser);
  const byOrg = new Map(usedByOrg);
  const chosen: string[] = [];
  for (const c of candidates) {
    if (chosen.length >= room) break;
    const user = byUser.get(c.userId) ?? 0;
    const org = byOrg.get(c.orgId) ?? 0;
    if (user >= limits.userMaxConcurrent || org >= limits.orgMaxConcurrent) continue;
    if (held && held(c) !== null) continue;
    chosen.push(c.jobId);
    byUser.set(c.userId, user + 1);
    byOrg.set(c.orgId, org + 1);
  }
  return chosen;
}
