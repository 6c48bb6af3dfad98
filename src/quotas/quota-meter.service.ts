import { Injectable } from '@nestjs/common';
import type { Quota } from './quota.entity';
import {
  isWindowType,
  standingOf,
  subjectOf,
  windowOf,
  type Standing,
  type Subject,
  type Submitter,
  type WindowType,
} from './quota-rules';
import { SpendRepository, type WindowStarts } from './spend.repository';

const HOUR_MS = 3600_000;

/** The window starts at `now` that one usage read measures. */
function windowStarts(now: Date): WindowStarts {
  return {
    day: windowOf('cost_daily', now).start,
    month: windowOf('cost_monthly', now).start,
    hourAgo: new Date(now.getTime() - HOUR_MS),
    dayAgo: new Date(now.getTime() - 24 * HOUR_MS),
  };
}

const subjectKey = (s: Subject) => `${s.kind}:${s.id}`;

/** Measures quotas: what their subjects have used in their current windows. */
@Injectable()
export class QuotaMeter {
  constructor(private readonly spend: SpendRepository) {}

  /**
   * Each window quota's standing for this submitter at `now`, `requested` being what a submit adds (its cost
   * estimate to cost quotas, one job to the counts; null: nothing, as /quotas/me asks). One statement.
   */
  async standings(quotas: Quota[], who: Submitter, requested: { cost: number } | null, now: Date) {
    const windowed = quotas.filter((q) => isWindowType(q.type));
    const reads = new Map<string, { subject: Subject; since: Date }>();
    for (const q of windowed) {
      const subject = subjectOf(q, who);
      const start = windowOf(q.type as WindowType, now).start;
      const known = reads.get(subjectKey(subject));
      if (!known || start < known.since) reads.set(subjectKey(subject), { subject, since: start });
    }
    const usage = await this.spend.windowUsage([...reads.values()], windowStarts(now));
    return windowed.map((q): Standing => {
      const type = q.type as WindowType;
      const subject = subjectOf(q, who);
      const add = requested === null ? 0 : type.startsWith('cost') ? requested.cost : 1;
      const used = usage.get(subjectKey(subject))![type];
      return standingOf(q, subject, windowOf(type, now), used, add, now);
    });
  }

  /** Jobs dispatching or running for a concurrent_jobs quota's subject. */
  slotsInUse(quota: Quota, who: Submitter): Promise<number> {
    return this.spend.slotsInUse(subjectOf(quota, who));
  }

  /**
   * What a quota's subject has used now: a user, org or provider quota's own subject; for a global or level quota
   * (a per-user default) the user who has used the most.
   */
  async used(quota: Quota, now: Date): Promise<number> {
    const type = quota.type;
    if (quota.scope === 'global' || quota.scope === 'level') {
      const since = isWindowType(type) ? windowOf(type, now).start : now;
      return this.spend.highestPerUser(type, since, quota.scope === 'level' ? quota.scopeId : null);
    }
    const subject: Subject = { kind: quota.scope, id: quota.scopeId! };
    if (!isWindowType(type)) return this.spend.slotsInUse(subject);
    const usage = await this.spend.windowUsage([{ subject, since: windowOf(type, now).start }], windowStarts(now));
    return usage.get(subjectKey(subject))![type].used;
  }
}
