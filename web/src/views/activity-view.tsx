import { dateTime, shortId } from '../format';
import type { ServerEvent } from '../types';

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
          {events.map((e) => (
            <li key={e.id}>
              <time dateTime={new Date(e.receivedAt).toISOString()}>
                {dateTime(new Date(e.receivedAt).toISOString())}
              </time>{' '}
              <strong>{e.type}</strong>
              {e.data.job_id && (
                <>
                  {' '}
                  job <code>{shortId(e.data.job_id)}</code>
                </>
              )}
              {e.data.status && (
                <>
                  : {e.data.previous_status ? `${e.data.previous_status} → ` : ''}
                  {e.data.status}
                </>
              )}
              <span class="event-id"> #{e.id}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
