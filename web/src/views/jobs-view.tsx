import { useEffect, useState } from 'preact/hooks';
import { useDashboard, useServerEvents } from '../dashboard-context';
import { dateTime, duration, money, shortId, userName } from '../format';
import { useNow, useReloadOnEvents, useResource } from '../hooks';
import { canActOn, canCancel, canRetry } from '../permissions';
// The service's own status vocabulary and forward-only rule (a dependency-free file), bundled into the page.
import { canTransition, JOB_STATUSES, type JobStatus } from '../../../src/common/job-status';
import type { Job, JobList, RetriedJob } from '../api-types';
import { jobHref } from '../route';
import { ListState } from '../ui/list-state';
import { StatusBadge } from '../ui/status-badge';
import { JobBulkBar } from './job-bulk-bar';
import { ProgressBar, useLiveProgress } from './job-progress';

export const isJobStatus = (value: unknown): value is JobStatus => (JOB_STATUSES as readonly unknown[]).includes(value);

/** Statuses only move forward: a live update never loses to an older list answer, nor the reverse. */
function later(listed: JobStatus, live: JobStatus | undefined): JobStatus {
  return live !== undefined && canTransition(listed, live) ? live : listed;
}

const RELOAD_ON = ['job_submitted', 'job_status_changed', 'job_dispatched', 'approval_rejected', 'approval_expired'];
const PAGE_SIZE = 100;

/** Live duration: from start to end, or to now while the job runs. */
export function jobDuration(job: Job, now: number): number | null {
  if (!job.started_at) return null;
  const end = job.completed_at ? new Date(job.completed_at).getTime() : job.is_terminal ? null : now;
  return end === null ? job.duration_seconds : (end - new Date(job.started_at).getTime()) / 1000;
}

export function JobsView() {
  const { api, me, users, reportFailure } = useDashboard();
  const [status, setStatus] = useState('');
  const [liveStatus, setLiveStatus] = useState<ReadonlyMap<string, JobStatus>>(new Map());
  const [cancelling, setCancelling] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const now = useNow();
  const progressOf = useLiveProgress();
  const jobs = useResource(
    () => api.get<JobList>(`/api/cloud/jobs?limit=${PAGE_SIZE}${status ? `&status=${status}` : ''}`),
    [status],
  );
  useServerEvents(({ data }) => {
    // A status this page does not know (a newer service) is left to the reload.
    if (data.type === 'job_status_changed' && isJobStatus(data.status)) {
      const next = data.status;
      setLiveStatus((map) => new Map(map).set(data.job_id, next));
    }
  });
  // The status flips at once from the event; cost, duration and new rows come with the reload that follows.
  useReloadOnEvents(RELOAD_ON, jobs.reload);
  // Once the list has caught up with a live status, the override is dropped, so the map stays small.
  useEffect(() => {
    const listed = new Map((jobs.data?.jobs ?? []).map((j) => [j.job_id, j.status]));
    setLiveStatus((map) => {
      const kept = [...map].filter(([id, live]) => !listed.has(id) || canTransition(listed.get(id)!, live));
      return kept.length === map.size ? map : new Map(kept);
    });
  }, [jobs.data]);

  const act = async (job: Job, action: 'cancel' | 'retry') => {
    setCancelling(job.job_id);
    try {
      await api.post<RetriedJob>(`/api/cloud/jobs/${job.job_id}/${action}`, action === 'retry' ? {} : undefined);
      jobs.reload();
    } catch (err) {
      reportFailure(`${action === 'retry' ? 'Retry' : 'Cancel'} ${job.config_name}`, err);
    } finally {
      setCancelling(null);
    }
  };
  const toggle = (ids: string[], on: boolean) =>
    setSelected((set) => {
      const next = new Set(set);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  const listed = jobs.data?.jobs ?? [];
  const selectable = listed.filter((j) => canActOn(me, j)).map((j) => j.job_id);
  const chosen = selectable.filter((id) => selected.has(id));
  const nameOf = (id: string) => listed.find((j) => j.job_id === id)?.config_name ?? 'job';

  return (
    <section aria-labelledby="jobs-heading">
      <div class="view-head">
        <h2 id="jobs-heading">Jobs</h2>
        <label class="inline-field">
          Status
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value="">All</option>
            {JOB_STATUSES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
      </div>
      <p class="view-help">Newest first. Statuses change live as the providers report them.</p>
      {me.level !== 'viewer' && (
        <JobBulkBar
          selected={chosen}
          anySelectable={selectable.length > 0}
          nameOf={nameOf}
          onDone={() => {
            setSelected(new Set());
            jobs.reload();
          }}
        />
      )}
      <ListState
        resource={jobs}
        what="jobs"
        isEmpty={(d) => d.jobs.length === 0}
        empty={status ? `No ${status} jobs.` : 'No jobs yet. Jobs submitted through the API appear here at once.'}
      >
        {(d) => (
          <>
            <table class="data">
              <thead>
                <tr>
                  <th scope="col" class="select">
                    <input
                      type="checkbox"
                      aria-label="Select all jobs"
                      disabled={selectable.length === 0}
                      checked={selectable.length > 0 && chosen.length === selectable.length}
                      onChange={(e) => toggle(selectable, (e.target as HTMLInputElement).checked)}
                    />
                  </th>
                  <th scope="col">Job</th>
                  <th scope="col">Status</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Hardware</th>
                  <th scope="col">Cost (estimate / actual)</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Created</th>
                  <th scope="col">Duration</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.jobs.map((listed) => {
                  const job = { ...listed, status: later(listed.status, liveStatus.get(listed.job_id)) };
                  const percent = job.status === 'running' ? progressOf(job.job_id, listed.progress)?.percent : null;
                  return (
                    <tr key={job.job_id}>
                      <td class="select">
                        {canActOn(me, job) && (
                          <input
                            type="checkbox"
                            aria-label={`Select ${job.config_name} ${shortId(job.job_id)}`}
                            checked={selected.has(job.job_id)}
                            onChange={(e) => toggle([job.job_id], (e.target as HTMLInputElement).checked)}
                          />
                        )}
                      </td>
                      <th scope="row" data-label="Job">
                        <a class="name" href={jobHref(job.job_id)}>
                          {job.config_name}
                        </a>{' '}
                        <code class="id">{shortId(job.job_id)}</code>
                        {job.error_message && <span class="row-error">{job.error_message}</span>}
                      </th>
                      <td data-label="Status">
                        <StatusBadge status={job.status} />
                        {typeof percent === 'number' && (
                          <ProgressBar percent={percent} label={`Progress of ${job.config_name}`} />
                        )}
                        {job.status === 'pending' && job.start_after && Date.parse(job.start_after) > now && (
                          <span class="scheduled" title={job.start_after}>
                            Starts {dateTime(job.start_after)}
                          </span>
                        )}
                      </td>
                      <td data-label="Provider">{job.provider}</td>
                      <td data-label="Hardware">{job.hardware_profile}</td>
                      <td data-label="Cost">
                        {money(job.cost_estimate)} / {money(job.cost_usd)}
                      </td>
                      <td data-label="Owner">{userName(job.user_id, users, me.id)}</td>
                      <td data-label="Created" title={job.created_at}>
                        {dateTime(job.created_at)}
                      </td>
                      <td data-label="Duration">{duration(jobDuration(job, now))}</td>
                      <td data-label="Actions" class="actions">
                        {canCancel(me, job) && (
                          <button
                            type="button"
                            class="danger"
                            disabled={cancelling === job.job_id}
                            onClick={() => void act(job, 'cancel')}
                          >
                            Cancel<span class="sr-only"> {job.config_name}</span>
                          </button>
                        )}
                        {canRetry(me, job) && (
                          <button
                            type="button"
                            class="secondary"
                            disabled={cancelling === job.job_id}
                            onClick={() => void act(job, 'retry')}
                          >
                            Retry<span class="sr-only"> {job.config_name}</span>
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {d.total > d.jobs.length && (
              <p class="view-help">
                Showing the newest {d.jobs.length} of {d.total} jobs.
              </p>
            )}
          </>
        )}
      </ListState>
    </section>
  );
}
