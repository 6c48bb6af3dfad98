import { useState } from 'preact/hooks';
import { useDashboard } from '../dashboard-context';
import { dateTime, money, relative, shortId, userName } from '../format';
import { useNow, useReloadOnEvents, useResource } from '../hooks';
import { atLeast, canDecide } from '../permissions';
import type { Api } from '../api';
import type { ApprovalRequest, ApprovalRequestList, JobList } from '../api-types';
import { ListState } from '../ui/list-state';
import { StatusBadge } from '../ui/status-badge';
import { ApprovalActions } from './approval-actions';
import { ApprovalBulkBar } from './approval-bulk-bar';

const RELOAD_ON = ['approval_required', 'approval_approved', 'approval_rejected', 'approval_expired', 'job_submitted'];
const HISTORY_SIZE = 50;

interface ApprovalsSnapshot {
  pending: ApprovalRequest[];
  pendingCount: number;
  history: ApprovalRequest[];
  jobNames: ReadonlyMap<string, string>;
}

async function loadApprovals(api: Api): Promise<ApprovalsSnapshot> {
  const [pending, recent, jobs] = await Promise.all([
    api.get<ApprovalRequestList>('/api/approvals/requests?status=pending&limit=500'),
    api.get<ApprovalRequestList>(`/api/approvals/requests?limit=${HISTORY_SIZE + 50}`),
    // Names only: a researcher sees only its own jobs, so other requests keep their short id.
    api.get<JobList>('/api/cloud/jobs?limit=500').catch(() => ({ jobs: [] })),
  ]);
  return {
    pending: [...pending.requests].sort((a, b) => a.expires_at.localeCompare(b.expires_at)),
    pendingCount: pending.pending_count,
    history: recent.requests.filter((r) => r.status !== 'pending').slice(0, HISTORY_SIZE),
    jobNames: new Map(jobs.jobs.map((j) => [j.job_id, j.config_name])),
  };
}

export function ApprovalsView() {
  const { api, me, users } = useDashboard();
  const now = useNow(15_000);
  const approvals = useResource(() => loadApprovals(api), []);
  useReloadOnEvents(RELOAD_ON, approvals.reload);
  const nameOf = (d: ApprovalsSnapshot, r: ApprovalRequest) => d.jobNames.get(r.job_id) ?? `job ${shortId(r.job_id)}`;
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const decidable = (approvals.data?.pending ?? []).filter((r) => canDecide(me, r));
  const chosen = decidable.filter((r) => selected.has(r.id)).map((r) => r.id);
  const requestName = (id: string) => {
    const r = approvals.data?.pending.find((p) => p.id === id);
    return r && approvals.data ? nameOf(approvals.data, r) : 'request';
  };
  const toggle = (id: string, on: boolean) =>
    setSelected((set) => {
      const next = new Set(set);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  return (
    <section aria-labelledby="approvals-heading">
      <div class="view-head">
        <h2 id="approvals-heading">Approvals</h2>
      </div>
      <p class="view-help">Jobs held until a lead or admin decides. Undecided requests expire and cancel their job.</p>
      <h3>Pending</h3>
      {(decidable.length > 0 || atLeast(me.level, 'lead')) && (
        <ApprovalBulkBar
          selected={chosen}
          nameOf={requestName}
          onDone={() => {
            setSelected(new Set());
            approvals.reload();
          }}
        />
      )}
      <ListState
        resource={approvals}
        what="approval requests"
        isEmpty={(d) => d.pending.length === 0}
        empty="No request is waiting for a decision."
      >
        {(d) => (
          <ul class="cards" aria-label="Pending approval requests">
            {d.pending.map((r) => {
              const name = nameOf(d, r);
              const left = new Date(r.expires_at).getTime() - now;
              return (
                <li class="card request" key={r.id} aria-label={`Request for ${name}`}>
                  <h4>
                    {canDecide(me, r) && (
                      <input
                        type="checkbox"
                        aria-label={`Select the request for ${name}`}
                        checked={selected.has(r.id)}
                        onChange={(e) => toggle(r.id, (e.target as HTMLInputElement).checked)}
                      />
                    )}{' '}
                    {name} <code class="id">{shortId(r.job_id)}</code>
                  </h4>
                  <dl class="facts">
                    <div>
                      <dt>Requested by</dt>
                      <dd>{userName(r.user_id, users, me.id)}</dd>
                    </div>
                    <div>
                      <dt>Estimated cost</dt>
                      <dd>{money(r.estimated_cost)}</dd>
                    </div>
                    <div>
                      <dt>Why</dt>
                      <dd>
                        {r.reason || '—'}
                        {r.rule_name && !r.reason.includes(r.rule_name) && <small> (rule “{r.rule_name}”)</small>}
                      </dd>
                    </div>
                    <div>
                      <dt>Time left</dt>
                      <dd title={r.expires_at} class={left < 3600_000 ? 'urgent' : undefined}>
                        {left > 0 ? `expires ${relative(r.expires_at, now)}` : 'expiring now'}
                      </dd>
                    </div>
                  </dl>
                  {canDecide(me, r) ? (
                    <ApprovalActions request={r} name={name} onDecided={approvals.reload} />
                  ) : (
                    <p class="hint">
                      {r.user_id === me.id
                        ? 'Your own request: someone else decides.'
                        : `Needs a ${r.required_approver_level} or above to decide.`}
                    </p>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </ListState>
      <h3>History</h3>
      <ListState
        resource={approvals}
        what="approval history"
        showStatus={false}
        isEmpty={(d) => d.history.length === 0}
        empty="No request has been decided or has expired yet."
      >
        {(d) => (
          <table class="data" aria-label="Decided and expired requests">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Outcome</th>
                <th scope="col">Requested by</th>
                <th scope="col">Estimated cost</th>
                <th scope="col">Decided by</th>
                <th scope="col">When</th>
                <th scope="col">Notes</th>
              </tr>
            </thead>
            <tbody>
              {d.history.map((r) => (
                <tr key={r.id}>
                  <th scope="row" data-label="Job">
                    <span class="name">{nameOf(d, r)}</span> <code class="id">{shortId(r.job_id)}</code>
                  </th>
                  <td data-label="Outcome">
                    <StatusBadge status={r.status} />
                  </td>
                  <td data-label="Requested by">{userName(r.user_id, users, me.id)}</td>
                  <td data-label="Estimated cost">{money(r.estimated_cost)}</td>
                  <td data-label="Decided by">
                    {r.status === 'expired' ? 'nobody (expired)' : userName(r.reviewed_by, users, me.id)}
                  </td>
                  <td data-label="When" title={r.reviewed_at ?? r.expires_at}>
                    {dateTime(r.reviewed_at ?? r.expires_at)}
                  </td>
                  <td data-label="Notes">{r.review_notes ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListState>
    </section>
  );
}
