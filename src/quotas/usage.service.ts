import { Injectable } from '@nestjs/common';
import { AccessPolicy, type AuthenticatedUser } from '../auth';
import { Clock } from '../common/clock';
import { ValidationError } from '../common/errors';
import { applies, type Submitter } from './quota-rules';
import { QuotaMeter } from './quota-meter.service';
import type { UsageQuery } from './quotas.dto';
import { QuotasService } from './quotas.service';
import type { MyQuotaView, UsageReportView } from './quotas.view';
import { SpendRepository, type UsageGroup, type UsageRow } from './spend.repository';
import { windowOf } from './quota-rules';

/** `2026-12-01`, `2026-12-01T10:00`, `2026-12-01T10:00:00.000Z`, `2026-12-01T10:00:00+02:00`: dates read as UTC. */
const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function parseInstant(field: 'from' | 'to', raw: string): Date {
  // A time without an offset is UTC, like a bare date (Date.parse would read it as local time).
  const text = /T[^Z+-]*$/.test(raw) ? `${raw}Z` : raw;
  const at = ISO.test(raw) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(at.getTime())) throw new ValidationError(`Invalid ${field}`, { [field]: 'an ISO date or time' });
  return at;
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;
const CSV_COLUMNS = [
  'key',
  'label',
  'jobs',
  'completed',
  'failed',
  'cancelled',
  'cost_usd',
  'open_estimate',
  'gpu_seconds',
] as const;

function csvCell(v: string | number | null | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The usage report and what the caller's quotas hold now. */
@Injectable()
export class UsageService {
  constructor(
    private readonly spend: SpendRepository,
    private readonly access: AccessPolicy,
    private readonly quotas: QuotasService,
    private readonly meter: QuotaMeter,
    private readonly clock: Clock,
  ) {}

  /** Jobs created in [from, to) the caller may see (own; lead and viewer: org; admin: all), grouped. */
  async report(caller: AuthenticatedUser, q: UsageQuery): Promise<UsageReportView> {
    const now = this.clock.now();
    const month = windowOf('cost_monthly', now);
    const from = q.from ? parseInstant('from', q.from) : month.start;
    const to = q.to ? parseInstant('to', q.to) : month.resetsAt!;
    if (to <= from) throw new ValidationError('Invalid to', { to: 'must be later than from' });
    const group: UsageGroup = q.group_by ?? 'day';
    const { rows, totals } = await this.spend.report(group, from, to, this.access.scope(caller), now);
    const clean = (r: UsageRow) => ({
      ...r,
      cost_usd: round(r.cost_usd),
      open_estimate: round(r.open_estimate),
      gpu_seconds: round(r.gpu_seconds),
    });
    const { key: _k, label: _l, ...sums } = clean(totals ?? EMPTY);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      group_by: group,
      rows: rows.map((r) => ({ ...clean(r), key: r.key ?? '' })),
      totals: sums,
    };
  }

  /** The report as CSV: a header row, a row per key, and a last row `total` with the totals. */
  toCsv(report: UsageReportView): string {
    const lines = [CSV_COLUMNS.join(',')];
    for (const r of report.rows) lines.push(CSV_COLUMNS.map((c) => csvCell(r[c])).join(','));
    const totals: Record<string, string | number> = { ...report.totals, key: 'total', label: '' };
    lines.push(CSV_COLUMNS.map((c) => csvCell(totals[c])).join(','));
    return lines.join('\r\n') + '\r\n';
  }

  /** Every active quota that applies to the caller, with what its subject has used now. */
  async mine(caller: AuthenticatedUser): Promise<MyQuotaView[]> {
    const who: Submitter = { userId: caller.id, orgId: caller.orgId, level: caller.level };
    const quotas = (await this.quotas.active()).filter((q) => applies(q, who));
    const now = this.clock.now();
    const standings = new Map((await this.meter.standings(quotas, who, now)).map((s) => [s.quota.id, s]));
    const out: MyQuotaView[] = [];
    for (const q of quotas) {
      const s = standings.get(q.id);
      const used = s ? round(s.used) : await this.meter.slotsInUse(q, who);
      out.push({
        quota_id: q.id,
        scope: q.scope,
        type: q.type,
        limit: q.limit,
        used,
        remaining: round(Math.max(0, q.limit - used)),
        action: q.action,
        resets_at: s ? s.resetsAt.toISOString() : null,
      });
    }
    return out;
  }
}

const EMPTY: UsageRow = {
  key: null,
  label: null,
  jobs: 0,
  completed: 0,
  failed: 0,
  cancelled: 0,
  cost_usd: 0,
  open_estimate: 0,
  gpu_seconds: 0,
};
