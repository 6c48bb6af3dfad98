import { Injectable } from '@nestjs/common';
import type { UserLevel } from '../auth';
import { DispatchGate, type Candidate, type GateCheck, type GateRead, type QuotaWaitReason } from '../queue';
import type { Quota } from './quota.entity';
import { windowStarts } from './quota-meter.service';
import { applies, isCostType, subjectOf, windowOf, type Subject, type Submitter } from './quota-rules';
import { QuotasService } from './quotas.service';
import { SpendRepository, type SubjectRead } from './spend.repository';

/** Sums of dollar amounts carry float noise: a budget is passed only by more than a billionth. */
const EPSILON = 1e-9;
const keyOf = (s: Subject) => `${s.kind}:${s.id}`;

type Costs = { cost_daily: number; cost_monthly: number };
interface Needs {
  who: Submitter;
  estimate: number;
}

/** Slots in use (dispatching + running) by user, org and provider. */
const SLOTS = `SELECT user_id, org_id, provider, count(*)::int AS n FROM queue_entries
                WHERE status IN ('dispatching', 'running') GROUP BY user_id, org_id, provider`;
/** What the quotas weigh of a waiting entry: its provider, its owner's level, its estimate. */
const NEEDS = `SELECT q.job_id, q.user_id, q.org_id, q.provider, u.level, j.cost_estimate::float8 AS estimate
                 FROM queue_entries q JOIN jobs j ON j.job_id = q.job_id JOIN users u ON u.id = q.user_id
                WHERE q.job_id = ANY($1::uuid[])`;

/**
 * The quotas at dispatch: a `concurrent_jobs` block quota is a limit on its subject's dispatching + running
 * entries (a user, level or global quota counts each user's own, an org quota the org's, a provider quota every
 * entry on it); a cost block quota keeps an entry waiting while the window's spend (dispatched jobs: actual cost,
 * else estimate) plus its estimate passes the limit. Warn and approval quotas act at submit only.
 */
@Injectable()
export class QuotaDispatchGate extends DispatchGate {
  constructor(
    private readonly quotas: QuotasService,
    private readonly spend: SpendRepository,
  ) {
    super();
  }

  private async holding(): Promise<Quota[]> {
    const active = await this.quotas.active();
    return active.filter((q) => q.action === 'block' && (q.type === 'concurrent_jobs' || isCostType(q.type)));
  }

  async active(): Promise<boolean> {
    return (await this.holding()).length > 0;
  }

  async open(read: GateRead, now: Date): Promise<GateCheck> {
    const quotas = await this.holding();
    const slots = new Map<string, number>();
    if (quotas.some((q) => q.type === 'concurrent_jobs')) {
      const rows = await read<{ user_id: string; org_id: string; provider: string; n: number }>(SLOTS, []);
      const add = (k: string, n: number) => slots.set(k, (slots.get(k) ?? 0) + n);
      for (const r of rows) {
        add(`user:${r.user_id}`, r.n);
        add(`org:${r.org_id}`, r.n);
        add(`provider:${r.provider}`, r.n);
      }
    }
    return new DispatchCheck(quotas, slots, read, (reads) => this.spend.dispatchedSpend(reads, windowStarts(now)), now);
  }
}

class DispatchCheck implements GateCheck {
  readonly fullUsers: string[] = [];
  readonly fullOrgs: string[] = [];
  private readonly needs = new Map<string, Needs>();
  private readonly costs = new Map<string, Costs>();

  constructor(
    private readonly quotas: Quota[],
    private readonly slots: Map<string, number>,
    private readonly read: GateRead,
    private readonly spendOf: (reads: SubjectRead[]) => { sql: string; params: unknown[] },
    private readonly now: Date,
  ) {
    for (const q of quotas) {
      if (q.type !== 'concurrent_jobs') continue;
      const full = (kind: string, id: string) => (slots.get(`${kind}:${id}`) ?? 0) >= q.limit;
      if (q.scope === 'user' && full('user', q.scopeId!)) this.fullUsers.push(q.scopeId!);
      if (q.scope === 'org' && full('org', q.scopeId!)) this.fullOrgs.push(q.scopeId!);
      if (q.scope === 'global') {
        for (const [k, n] of slots) if (k.startsWith('user:') && n >= q.limit) this.fullUsers.push(k.slice(5));
      }
    }
  }

  async load(candidates: Candidate[]): Promise<void> {
    const ids = candidates.map((c) => c.jobId).filter((id) => !this.needs.has(id));
    if (ids.length === 0) return;
    const rows = await this.read<{
      job_id: string;
      user_id: string;
      org_id: string;
      provider: string;
      level: UserLevel;
      estimate: number;
    }>(NEEDS, [ids]);
    const reads = new Map<string, SubjectRead>();
    for (const r of rows) {
      const who: Submitter = { userId: r.user_id, orgId: r.org_id, level: r.level, provider: r.provider };
      this.needs.set(r.job_id, { who, estimate: r.estimate });
      for (const q of this.quotas) {
        if (!isCostType(q.type) || !applies(q, who)) continue;
        const subject = subjectOf(q, who);
        const since = windowOf(q.type as 'cost_daily' | 'cost_monthly', this.now).start;
        const known = reads.get(keyOf(subject));
        if (!this.costs.has(keyOf(subject)) && (!known || since < known.since))
          reads.set(keyOf(subject), { subject, since });
      }
    }
    if (reads.size === 0) return;
    const { sql, params } = this.spendOf([...reads.values()]);
    for (const r of await this.read<Costs & { subject: string }>(sql, params)) this.costs.set(r.subject, r);
  }

  tally(): (c: Candidate) => QuotaWaitReason | null {
    const slots = new Map<string, number>();
    const spent = new Map<string, number>();
    return (c) => {
      const needs = this.needs.get(c.jobId);
      if (!needs) return null;
      const { who, estimate } = needs;
      let reason: QuotaWaitReason | null = null;
      for (const q of this.quotas) {
        if (!applies(q, who)) continue;
        const k = keyOf(subjectOf(q, who));
        if (q.type === 'concurrent_jobs') {
          if ((this.slots.get(k) ?? 0) + (slots.get(k) ?? 0) + 1 > q.limit) return 'quota_limit';
        } else {
          const used = (this.costs.get(k)?.[q.type as keyof Costs] ?? 0) + (spent.get(k) ?? 0);
          if (used + estimate > q.limit + EPSILON) reason = 'budget_exhausted';
        }
      }
      if (reason) return reason;
      for (const k of [`user:${who.userId}`, `org:${who.orgId}`, `provider:${who.provider}`]) {
        slots.set(k, (slots.get(k) ?? 0) + 1);
        spent.set(k, (spent.get(k) ?? 0) + estimate);
      }
      return null;
    };
  }
}
