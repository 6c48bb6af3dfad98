import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useDashboard } from '../dashboard-context';
import { LogState, openLogStream } from '../log-stream';

/** Lines fetched when the page opens; older ones are in the full log (GET …/logs). */
const TAIL_LINES = 200;
/** Characters kept on the page: a run that logs for days must not grow the tab without bound. */
const MAX_CHARS = 400_000;
/** Within this many pixels of the bottom counts as "at the bottom". */
const BOTTOM_SLACK = 8;

const STATE_TEXT: Record<LogState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  complete: 'Complete',
  unavailable: 'Unavailable',
};

/** Appends, dropping whole lines from the start past the cap. */
function appendCapped(text: string, more: string): { text: string; trimmed: boolean } {
  const all = text + more;
  if (all.length <= MAX_CHARS) return { text: all, trimmed: false };
  const cut = all.indexOf('\n', all.length - MAX_CHARS);
  return { text: all.slice(cut < 0 ? all.length - MAX_CHARS : cut + 1), trimmed: true };
}

/**
 * The job's log as it grows. It keeps the newest line in view until the reader scrolls up; then it stays where the
 * reader is, and "Follow" (or scrolling back to the bottom) resumes.
 */
export function LogTail({ jobId }: { jobId: string }) {
  const { api } = useDashboard();
  const [log, setLog] = useState({ text: '', trimmed: false });
  const [state, setState] = useState<{ state: LogState; message?: string }>({ state: 'connecting' });
  const [following, setFollowing] = useState(true);
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    const stream = openLogStream(api, jobId, TAIL_LINES, {
      onText: (more) =>
        setLog((l) => {
          const next = appendCapped(l.text, more);
          return { text: next.text, trimmed: l.trimmed || next.trimmed };
        }),
      onState: (s, message) => setState({ state: s, message }),
    });
    return () => stream.close();
  }, [api, jobId]);

  useLayoutEffect(() => {
    const el = box.current;
    if (el && following) el.scrollTop = el.scrollHeight;
  }, [log.text, following]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    setFollowing(el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK);
  };

  return (
    <div class="log-tail">
      <div class="log-bar">
        <span class={`log-state log-${state.state}`} role="status" aria-label="Log stream">
          {STATE_TEXT[state.state]}
        </span>
        {!following && (
          <>
            <span class="hint">Paused while you read.</span>
            <button type="button" class="secondary" onClick={() => setFollowing(true)}>
              Follow
            </button>
          </>
        )}
      </div>
      {state.state === 'unavailable' ? (
        <p class="placeholder">The log cannot be shown: {state.message}</p>
      ) : (
        <>
          {log.trimmed && <p class="hint">Earlier lines are left out here.</p>}
          {/* role=log would announce every line: a run writes many a second. */}
          <pre ref={box} class="log-lines" tabIndex={0} aria-label="Log" onScroll={onScroll}>
            {log.text || (state.state === 'complete' ? 'The log is empty.' : 'No log lines yet.')}
          </pre>
        </>
      )}
    </div>
  );
}
