import { useState } from 'preact/hooks';
import { useDashboard } from '../dashboard-context';
import { dateTime, duration, shortId, userName } from '../format';
import { useNow, useReloadOnEvents, useResource } from '../hooks';
import { canCancel, canRetry } from '../permissions';
import type { Job } from '../api-types';
import { jobHref } from '../route';
import { ListState } from '../ui/list-state';
import { StatusBadge } from '../ui/status-badge';
import { JobArtifacts } from './job-artifacts';
import { RetryJob } from './job-retry';
import { CostPanel } from './job-cost';
import { ProgressPanel, useLiveProgress } from './job-progress';
import { JobTimeline } from './job-timeline';
import { jobDuration } from './jobs-view';
import { LogTail } from './log-tail';

/** What changes the job's own fields (status, times, cost); progress and timeline follow their own events. */
const RELOAD_ON = [
  'job_status_changed',
  'job_dispatched',
  'approval_approved',
  'approval_rejected',
  'approval_expired',
];

/** Where the run's model and outputs live outside this service. */
function JobLinks({ job }: { job: Job }) {
  const links = [
    job.hub_model_id && { href: `https://huggingface.co/${job.hub_model_id}`, label: `Hub: ${job.hub_model_id}` },
    job.output_url && { href: job.output_url, label: 'Provider output' },
    job.logs_url && { href: job.logs_url, label: 'Provider logs' },
    // Only web links: a provider may report its own scheme (the simulator's `simulator://`), which no browser opens.
  ].filter((l): l is { href: string; label: string } => !!l && /^https?:\/\//i.test(l.href));
  if (links.length === 0) return null;
  return (
    <ul class="job-links">
      {links.map((l) => (
        <li key={l.href}>
          <a href={l.href} target="_blank" rel="noopener noreferrer">
            {l.label}
          </a>
        </li>
      ))}
    </ul>
  );
}

/** The retries this job belongs to: the job it retries and its newest retry. */
function RetryLinks({ job }: { job: Job }) {
  if (!job.retry_of && !job.retried_by) return null;
  return (
    <ul class="job-links" aria-label="Retries">
      {job.retry_of && (
        <li>
          <a href={jobHref(job.retry_of)}>Retry of {shortId(job.retry_of)}</a>
        </li>
      )}
      {job.retried_by && (
        <li>
          <a href={jobHref(job.retried_by)}>Retried as {shortId(job.retried_by)}</a>
        </li>
      )}
    </ul>
  );
}

function JobFacts({ job, now }: { job: Job; now: number }) {
  const { users, me } = useDashboard();
  const facts: Array<[string, string]> = [
    ['Provider', job.external_id ? `${job.provider} (${job.external_id})` : job.provider],
    ['Hardware', job.hardware_profile],
    ['Owner', userName(job.user_id, users, me.id)],
    ['Created', dateTime(job.created_at)],
    ['Started', dateTime(job.started_at)],
    ['Ended', dateTime(job.completed_at)],
    ['Duration', duration(jobDuration(job, now))],
    ['Attempt', `${job.attempt} of ${job.max_attempts}`],
  ];
  return (
    <dl class="facts">
      {facts.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** One job: where it stands, how far it is, what it logs, what it left and what it cost. */
export function JobDetailView({ jobId }: { jobId: string }) {
  const { api, me, reportFailure } = useDashboard();
  const now = useNow();
  const [cancelling, setCancelling] = useState(false);
  const job = useResource(() => api.get<Job>(`/api/cloud/jobs/${jobId}`), [jobId]);
  const progressOf = useLiveProgress();
  useReloadOnEvents(RELOAD_ON, job.reload, 250, ({ data }) => 'job_id' in data && data.job_id === jobId);

  const cancel = async (j: Job) => {
    setCancelling(true);
    try {
      await api.post(`/api/cloud/jobs/${j.job_id}/cancel`);
      job.reload();
    } catch (err) {
      reportFailure(`Cancel ${j.config_name}`, err);
    } finally {
      setCancelling(false);
    }
  };

  return (
    <section aria-labelledby="job-heading" class="job-detail">
      <p class="back">
        <a href="#jobs">← All jobs</a>
      </p>
      <ListState resource={job} what="the job" isEmpty={() => false} empty={null}>
        {(j) => (
          <>
            <div class="view-head">
              <div class="job-title">
                <h2 id="job-heading">
                  {j.config_name} <code class="id">{shortId(j.job_id)}</code>
                </h2>
                <StatusBadge status={j.status} />
              </div>
              {canCancel(me, j) && (
                <button type="button" class="danger" disabled={cancelling} onClick={() => void cancel(j)}>
                  Cancel job
                </button>
              )}
              {canRetry(me, j) && <RetryJob job={j} busy={cancelling} />}
            </div>
            {j.error_message && <p class="notice notice-error">{j.error_message}</p>}
            <JobLinks job={j} />
            <RetryLinks job={j} />
            <JobFacts job={j} now={now} />
            <div class="job-panels">
              <section class="card" aria-labelledby="progress-heading">
                <h3 id="progress-heading">Progress</h3>
                <ProgressPanel progress={progressOf(j.job_id, j.progress)} running={j.status === 'running'} />
              </section>
              <section class="card" aria-labelledby="cost-heading">
                <h3 id="cost-heading">Cost</h3>
                <CostPanel job={j} />
              </section>
            </div>
            <section class="card" aria-labelledby="log-heading">
              <h3 id="log-heading">Log</h3>
              <LogTail jobId={j.job_id} />
            </section>
            <div class="job-panels">
              <section class="card" aria-labelledby="timeline-heading">
                <h3 id="timeline-heading">Timeline</h3>
                <JobTimeline jobId={j.job_id} />
              </section>
              <section class="card" aria-labelledby="artifacts-heading">
                <h3 id="artifacts-heading">Artifacts</h3>
                <JobArtifacts jobId={j.job_id} finished={j.is_terminal} />
              </section>
            </div>
          </>
        )}
      </ListState>
    </section>
  );
}
