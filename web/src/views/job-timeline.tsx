import { useDashboard } from '../dashboard-context';
import { dateTime, money } from '../format';
import { useReloadOnEvents, useResource } from '../hooks';
import type { JobEvent, JobEventList } from '../api-types';
import { ListState } from '../ui/list-state';

/** Progress moves the bar above; as timeline entries its events would drown the rest. */
const LEFT_OUT = new Set(['job_progress']);
const str = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v));

/** One line for an event: what happened, in words, with the fields that matter for that type. */
function describe({ type, data }: JobEvent): { title: string; detail: string } {
  const d = data as Record<string, unknown>;
  switch (type) {
    case 'job_submitted':
      return { title: 'Submitted', detail: `to ${str(d.provider)}, estimate ${money(d.cost_estimate as number)}` };
    case 'job_status_changed':
      return { title: `Status: ${str(d.status)}`, detail: `from ${str(d.previous_status)}` };
    case 'job_dispatched':
      return { title: 'Dispatched', detail: `${str(d.provider)} ${str(d.external_id)}`.trim() };
    case 'approval_required':
      return { title: 'Waiting for approval', detail: str(d.reason) || str(d.rule_name) };
    case 'approval_approved':
      return { title: 'Approved', detail: str(d.notes) };
    case 'approval_rejected':
      return { title: 'Rejected', detail: str(d.reason) };
    case 'approval_expired':
      return { title: 'Approval expired', detail: str(d.message) };
    case 'cloud_job_update':
      return { title: 'Provider update', detail: str(d.provider_status) };
    case 'artifact_stored':
      return { title: 'Output stored', detail: str(d.name) };
    case 'artifact_failed':
      return { title: 'Output not stored', detail: `${str(d.name)}: ${str(d.error)}` };
    default:
      return { title: type.replace(/_/g, ' '), detail: '' };
  }
}

/** The job's history from its stored events, oldest first; new events of the job reload it. */
export function JobTimeline({ jobId }: { jobId: string }) {
  const { api } = useDashboard();
  const events = useResource(() => api.get<JobEventList>(`/api/cloud/jobs/${jobId}/events`), [jobId]);
  // Every event of this job but progress (an enterprise module's own types too): each is a line of the timeline.
  useReloadOnEvents(null, events.reload, 250, ({ type, data }) => {
    return !LEFT_OUT.has(type) && 'job_id' in data && data.job_id === jobId;
  });
  const shown = (d: JobEventList) => d.events.filter((e) => !LEFT_OUT.has(e.type));
  return (
    <ListState
      resource={events}
      what="the timeline"
      isEmpty={(d) => shown(d).length === 0}
      empty="No events kept for this job (they are deleted after the retention period)."
    >
      {(d) => (
        <>
          {d.more && <p class="hint">Older events are left out.</p>}
          <ol class="timeline" aria-label="Timeline">
            {shown(d).map((e) => {
              const { title, detail } = describe(e);
              return (
                <li key={e.id}>
                  <time dateTime={e.created_at} title={e.created_at}>
                    {dateTime(e.created_at)}
                  </time>
                  <strong>{title}</strong>
                  {detail && <span class="timeline-detail">{detail}</span>}
                </li>
              );
            })}
          </ol>
        </>
      )}
    </ListState>
  );
}
