import { useState } from 'preact/hooks';
import type { DispatchPause, DispatchPauseList } from '../api-types';
import { useDashboard } from '../dashboard-context';
import { dateTime } from '../format';
import { useReloadOnEvents, useResource } from '../hooks';
import { canResume } from '../permissions';

const RELOAD_ON = ['queue_paused', 'queue_resumed'];

function scopeLabel(p: DispatchPause): string {
  if (p.scope === 'global') return 'for every job';
  return p.scope === 'provider' ? `on provider ${p.scope_id}` : `for organisation ${p.scope_id}`;
}

/**
 * Shown while dispatch is paused for a scope the caller's jobs may be in: nothing starts there (running jobs go on)
 * until it is resumed. Those allowed get a Resume button; the list follows the pause events.
 */
export function PauseBanner() {
  const { api, me, reportFailure } = useDashboard();
  const pauses = useResource(() => api.get<DispatchPauseList>('/api/queue/pauses'), []);
  useReloadOnEvents(RELOAD_ON, pauses.reload);
  const [resuming, setResuming] = useState<string | null>(null);
  const list = pauses.data?.pauses ?? [];
  if (list.length === 0) return null;

  const resume = async (p: DispatchPause) => {
    setResuming(p.id);
    try {
      await api.post('/api/queue/resume', { scope: p.scope, ...(p.scope_id ? { scope_id: p.scope_id } : {}) });
      pauses.reload();
    } catch (err) {
      reportFailure('Resuming dispatch', err);
    } finally {
      setResuming(null);
    }
  };

  return (
    <div class="pause-banner" role="status" aria-label="Dispatch paused">
      {list.map((p) => (
        <p key={p.id}>
          <span>
            <strong>Dispatch is paused {scopeLabel(p)}</strong> since {dateTime(p.created_at)}: {p.reason}. Waiting jobs
            stay queued; running jobs go on.
          </span>
          {canResume(me, p) && (
            <button type="button" disabled={resuming === p.id} onClick={() => void resume(p)}>
              Resume
            </button>
          )}
        </p>
      ))}
    </div>
  );
}
