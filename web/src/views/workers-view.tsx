import { useEffect } from 'preact/hooks';
import { ApiError, type Api } from '../api';
import { useDashboard } from '../dashboard-context';
import { dateTime, duration } from '../format';
import { useResource } from '../hooks';
import { isAdmin } from '../permissions';
import type { BackgroundTasks, PollingStatus, TaskState } from '../api-types';
import { ListState } from '../ui/list-state';

/** No event reports a task run, so this view alone refreshes on a timer, and only while it is open. */
const REFRESH_MS = 10_000;

interface WorkersSnapshot {
  tasks: TaskState[];
  started: boolean;
  polling: PollingStatus;
}

async function loadWorkers(api: Api): Promise<WorkersSnapshot> {
  const [tasks, polling] = await Promise.all([
    api.get<BackgroundTasks>('/api/cloud/background-tasks'),
    api.get<PollingStatus>('/api/cloud/polling/status'),
  ]);
  return { tasks: tasks.tasks, started: tasks.started, polling };
}

function schedule(t: TaskState): string {
  return t.interval_seconds !== null ? `every ${duration(t.interval_seconds)}` : t.schedule;
}

export function WorkersView() {
  const { me } = useDashboard();
  return (
    <section aria-labelledby="workers-heading">
      <div class="view-head">
        <h2 id="workers-heading">Workers</h2>
      </div>
      <p class="view-help">The background tasks of this instance: status polling, queue processing, approval expiry.</p>
      {isAdmin(me) ? <WorkersDetail /> : <p class="notice">Background tasks are shown to admins only.</p>}
    </section>
  );
}

function WorkersDetail() {
  const { api } = useDashboard();
  const workers = useResource(() => loadWorkers(api), []);
  useEffect(() => {
    const timer = setInterval(workers.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  if (workers.error instanceof ApiError && workers.error.status === 403) {
    return <p class="notice">Background tasks are shown to admins only.</p>;
  }
  return (
    <ListState resource={workers} what="background tasks" isEmpty={(d) => d.tasks.length === 0} empty="No tasks.">
      {(d) => (
        <>
          <section class="card" aria-labelledby="polling-heading">
            <h3 id="polling-heading">Job status polling</h3>
            <p>
              <strong>{d.polling.is_active ? 'On' : 'Off'}</strong>, every {duration(d.polling.interval_seconds)}. Why:{' '}
              {d.polling.reason}.
            </p>
          </section>
          {!d.started && <p class="notice">Tasks have not started yet (the service is still booting).</p>}
          <p class="view-help">
            Refreshed every {REFRESH_MS / 1000} s.{' '}
            <button type="button" class="secondary small" onClick={workers.reload}>
              Refresh now
            </button>
          </p>
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Schedule</th>
                <th scope="col">State</th>
                <th scope="col">Last run</th>
                <th scope="col">Duration</th>
                <th scope="col">Runs / failures</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {d.tasks.map((t) => (
                <tr key={t.name}>
                  <th scope="row" data-label="Task">
                    <span class="name">{t.name}</span>
                    {t.leader && <small class="tag">one leader across instances</small>}
                  </th>
                  <td data-label="Schedule">{schedule(t)}</td>
                  <td data-label="State">
                    {!t.enabled ? 'disabled' : t.running ? 'running now' : 'idle'}
                    {t.reason && <small> ({t.reason})</small>}
                  </td>
                  <td data-label="Last run" title={t.last_started_at ?? undefined}>
                    {dateTime(t.last_started_at)}
                  </td>
                  <td data-label="Duration">
                    {t.last_duration_ms === null ? '—' : `${Math.round(t.last_duration_ms)} ms`}
                  </td>
                  <td data-label="Runs / failures" class={t.failures > 0 ? 'urgent' : undefined}>
                    {t.runs} / {t.failures}
                  </td>
                  <td data-label="Last error">{t.last_error ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </ListState>
  );
}
