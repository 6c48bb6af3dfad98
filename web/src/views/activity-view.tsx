import { dateTime, shortId } from '../format';
import type { ServerEvent } from '../event-stream';

/** The job and status an event is about, for the event types that carry them. */
function summary(data: ServerEvent['data']): { jobId?: string; status?: string; previous?: string } {
  return {
    jobId: 'job_id' in data ? data.job_id : undefined,
    status: 'status' in data ? data.status : undefined,
    previous: 'previous_status' in data ? data.previous_status : undefined,
  };
}

/** What the live stream delivered since sign-in, newest first: the page's own record of what changed. */
export function ActivityView({ events }: { events: ServerEvent[] }) {
  return (
    <section aria-labelledby="activity-heading">
      <div class="view-head">
        <h2 id="activity-heading">Activity</h2>
      </div>
      <p class="view-help">
        Events received live since you signed in (after a dropped connection, the missed ones are replayed).
      </p>
      {events.length === 0 ? (
        <p class="placeholder">No event yet. Submitted, dispatched and finished jobs show up here as they happen.</p>
      ) : (
        <ol class="activity" aria-label="Recent events">
          {events.map((e) => {
            const { jobId, status, previous } = summary(e.data);
            return (
              <li key={e.id}>
                <time dateTime={new Date(e.receivedAt).toISOString()}>
                  {dateTime(new Date(e.receivedAt).toISOString())}
                </time>{' '}
                <strong>{e.type}</strong>
                {jobId && (
                  <>
                    {' '}
                    job <code>{shortId(jobId)}</code>
                  </>
                )}
                {status && (
                  <>
                    : {previous ? `${previous} → ` : ''}
                    {status}
                  </>
                )}
                <span class="event-id"> #{e.id}</span>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
