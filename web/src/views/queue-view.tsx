import { useDashboard } from '../dashboard-context';
import { dateTime, duration, shortId, userName, waitReason } from '../format';
import { useReloadOnEvents, useResource } from '../hooks';
import { atLeast, canSetPriority, isAdmin } from '../permissions';
import { ListState } from '../ui/list-state';
import { StatusBadge } from '../ui/status-badge';
import { DETAILED_HEAD, loadQueue, WaitingJob } from './queue-data';
import { QueueLimits } from './queue-limits';
import { PriorityControl } from './priority-control';

const RELOAD_ON = [
  'job_submitted',
  'job_status_changed',
  'job_dispatched',
  'approval_approved',
  'approval_rejected',
  'approval_expired',
  'queue_limits_changed',
  'queue_paused',
  'queue_resumed',
];

function eta(w: WaitingJob): string {
  if (w.entry.status === 'blocked') {
    const scheduled = w.entry.blocked_reason === 'scheduled' && w.entry.not_before;
    return scheduled ? `from ${dateTime(w.entry.not_before)}` : 'after approval';
  }
  if (!w.detail) return '—';
  if (w.detail.blocked_reason === 'paused') return 'after a resume';
  const s = w.detail.estimated_wait_seconds;
  return s === null ? 'unknown yet' : `about ${duration(s)}`;
}

export function QueueView() {
  const { api, me, users } = useDashboard();
  const admin = isAdmin(me);
  // The column is there for those whose level may change a priority; each row asks the rule for its own job.
  const editable = atLeast(me.level, 'lead');
  const queue = useResource(() => loadQueue(api, admin), [admin]);
  // Each reload also asks for the head's positions (one request per job): at most one reload every 2 s.
  useReloadOnEvents(RELOAD_ON, queue.reload, 2000);

  return (
    <section aria-labelledby="queue-heading">
      <div class="view-head">
        <h2 id="queue-heading">Queue</h2>
      </div>
      <p class="view-help">
        Waiting jobs in dispatch order: highest effective priority first, then oldest. Jobs awaiting approval or a
        scheduled start follow.
      </p>
      {queue.data?.stats ? (
        <QueueLimits stats={queue.data.stats} running={queue.data.running} orgNames={queue.data.orgNames} />
      ) : (
        queue.data && <p class="notice">Limits and slot usage are shown to admins only.</p>
      )}
      <ListState
        resource={queue}
        what="the queue"
        isEmpty={(d) => d.waiting.length === 0}
        empty="Nothing is waiting: every submitted job has been dispatched."
      >
        {(d) => (
          <>
            <table class="data">
              <thead>
                <tr>
                  <th scope="col">Position</th>
                  <th scope="col">Job</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Effective priority</th>
                  <th scope="col">Why it waits</th>
                  <th scope="col">ETA</th>
                  {editable && <th scope="col">Change priority</th>}
                </tr>
              </thead>
              <tbody>
                {d.waiting.map((w) => {
                  const name = w.job?.config_name ?? `job ${shortId(w.entry.job_id)}`;
                  const reason =
                    w.entry.status === 'blocked' ? w.entry.blocked_reason : (w.detail?.blocked_reason ?? null);
                  return (
                    <tr key={w.entry.job_id}>
                      <td data-label="Position">{w.entry.position ?? <StatusBadge status={w.entry.status} />}</td>
                      <th scope="row" data-label="Job">
                        <span class="name">{name}</span> <code class="id">{shortId(w.entry.job_id)}</code>
                        {w.entry.last_error && <span class="row-error">{w.entry.last_error}</span>}
                      </th>
                      <td data-label="Owner">{userName(w.entry.user_id, users, me.id)}</td>
                      <td data-label="Effective priority">
                        {w.entry.effective_priority}
                        {w.entry.priority_override !== null && <small> (override; base {w.entry.priority})</small>}
                      </td>
                      <td data-label="Why it waits">{waitReason(reason, w.entry.status)}</td>
                      <td data-label="ETA">{eta(w)}</td>
                      {editable && (
                        <td data-label="Change priority">
                          {canSetPriority(me, w.entry) && (
                            <PriorityControl entry={w.entry} name={name} onChanged={queue.reload} />
                          )}
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {d.waiting.length > DETAILED_HEAD && (
              <p class="view-help">Reasons and ETAs are shown for the first {DETAILED_HEAD} waiting jobs.</p>
            )}
            {d.truncated && <p class="view-help">More jobs wait than are shown here.</p>}
          </>
        )}
      </ListState>
    </section>
  );
}
