import { useMemo } from 'preact/hooks';
import type { Api } from '../api';
import type { MyQuota, UsageReport, UsageRow } from '../api-types';
import { useDashboard } from '../dashboard-context';
import { dateTime, money } from '../format';
import { useReloadOnEvents, useResource } from '../hooks';
import { ListState } from '../ui/list-state';
import { CostChart, dailySeries } from './spend-chart';

/** How many users and orgs the top lists show. */
const TOP = 5;
const DAYS = 30;
/** Spend moves when a job is submitted or changes status (its cost is recorded when it ends), or a quota changes. */
const RELOAD_ON = ['job_submitted', 'job_status_changed', 'quota_threshold', 'quota_warning'];

interface SpendSnapshot {
  days: UsageReport;
  users: UsageReport;
  orgs: UsageReport;
  quotas: MyQuota[];
}

async function loadSpend(api: Api): Promise<SpendSnapshot> {
  const from = new Date(Date.now() - (DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const to = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const usage = (group: string) => api.get<UsageReport>(`/api/usage?group_by=${group}&from=${from}&to=${to}`);
  const [days, users, orgs, quotas] = await Promise.all([
    usage('day'),
    usage('user'),
    usage('org'),
    api.get<MyQuota[]>('/api/quotas/me'),
  ]);
  return { days, users, orgs, quotas };
}

const isCost = (q: MyQuota) => q.type === 'cost_daily' || q.type === 'cost_monthly';
const TYPE_LABEL: Record<MyQuota['type'], string> = {
  cost_daily: 'Cost per day',
  cost_monthly: 'Cost per month',
  jobs_per_hour: 'Jobs per hour',
  jobs_per_day: 'Jobs per day',
  concurrent_jobs: 'Jobs at once',
};

export function SpendView() {
  const { api } = useDashboard();
  const spend = useResource(() => loadSpend(api), []);
  useReloadOnEvents(RELOAD_ON, spend.reload, 1000);
  return (
    <section aria-labelledby="spend-heading">
      <div class="view-head">
        <h2 id="spend-heading">Spend</h2>
      </div>
      <p class="view-help">
        What training cost over the last {DAYS} days (UTC), who spent it, and how full each quota that applies to you
        is.
      </p>
      <ListState resource={spend} what="spend" isEmpty={() => false} empty="">
        {(d) => <SpendDetail data={d} />}
      </ListState>
    </section>
  );
}

function SpendDetail({ data }: { data: SpendSnapshot }) {
  const series = useMemo(() => dailySeries(data.days.rows, data.days.from, data.days.to), [data]);
  return (
    <>
      <section class="card spend-card" aria-labelledby="spend-days-heading">
        <h3 id="spend-days-heading">Cost per day</h3>
        <p class="spend-total">
          <strong>{money(data.days.totals.cost_usd)}</strong> spent · {money(data.days.totals.open_estimate)} estimated
          for jobs not finished · {data.days.totals.jobs} jobs
        </p>
        <CostChart series={series} />
      </section>
      <div class="spend-grid">
        <TopList title="Top users" id="spend-users" rows={data.users.rows} />
        <TopList title="Top organisations" id="spend-orgs" rows={data.orgs.rows} />
      </div>
      <section class="card spend-card" aria-labelledby="spend-quotas-heading">
        <h3 id="spend-quotas-heading">Quotas</h3>
        {data.quotas.length === 0 ? (
          <p class="placeholder">No quota applies to you.</p>
        ) : (
          <ul class="quota-bars">
            {data.quotas.map((q) => (
              <QuotaBar key={q.quota_id} quota={q} />
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

function TopList({ title, id, rows }: { title: string; id: string; rows: UsageRow[] }) {
  const top = [...rows].sort((a, b) => b.cost_usd + b.open_estimate - (a.cost_usd + a.open_estimate)).slice(0, TOP);
  return (
    <section class="card spend-card" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>{title}</h3>
      {top.length === 0 ? (
        <p class="placeholder">No jobs in this period.</p>
      ) : (
        <table class="data" id={id}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Jobs</th>
              <th scope="col">Cost</th>
              <th scope="col">Open estimate</th>
            </tr>
          </thead>
          <tbody>
            {top.map((r) => (
              <tr key={r.key}>
                <td data-label="Name">{r.label ?? r.key.slice(0, 8)}</td>
                <td data-label="Jobs">{r.jobs}</td>
                <td data-label="Cost">{money(r.cost_usd)}</td>
                <td data-label="Open estimate">{money(r.open_estimate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function QuotaBar({ quota: q }: { quota: MyQuota }) {
  const ratio = q.limit > 0 ? Math.min(1, q.used / q.limit) : 0;
  const amount = (n: number) => (isCost(q) ? money(n) : String(n));
  const level = ratio >= 1 ? 'full' : ratio >= 0.8 ? 'near' : 'ok';
  return (
    <li class="quota-bar">
      <div class="quota-bar-head">
        <span>
          <strong>{TYPE_LABEL[q.type]}</strong> · {q.scope} · {q.action.replace('_', ' ')}
        </span>
        <span>
          {amount(q.used)} of {amount(q.limit)}
        </span>
      </div>
      <div
        class={`quota-track quota-${level}`}
        role="meter"
        aria-label={`${TYPE_LABEL[q.type]} (${q.scope})`}
        aria-valuemin={0}
        aria-valuemax={q.limit}
        aria-valuenow={q.used}
      >
        <div class="quota-fill" style={{ width: `${(ratio * 100).toFixed(1)}%` }} />
      </div>
      <p class="quota-foot">
        {amount(q.remaining)} left{q.resets_at ? ` · resets ${dateTime(q.resets_at)}` : ''}
      </p>
    </li>
  );
}
