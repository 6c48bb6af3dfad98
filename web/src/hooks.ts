import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';
import { useDashboard, useServerEvents } from './dashboard-context';
import type { ServerEvent } from './event-stream';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | null;
  /** True until the first answer; later reloads keep showing the previous data. */
  loading: boolean;
  reload: () => void;
}

function toApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err), null);
}

/** Loads on mount and when `deps` change; answers that arrive out of order are dropped (a sequence number). */
export function useResource<T>(load: () => Promise<T>, deps: unknown[]): Resource<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const sequence = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(() => {
    const mine = ++sequence.current;
    loadRef
      .current()
      .then((data) => mine === sequence.current && setState({ data, error: null, loading: false }))
      .catch(
        (err: unknown) =>
          mine === sequence.current && setState((s) => ({ ...s, error: toApiError(err), loading: false })),
      );
  }, []);

  useEffect(() => {
    setState((s) => ({ ...s, loading: s.data === undefined }));
    reload();
  }, deps);

  return { ...state, reload };
}

/**
 * Reloads when an event of one of `types` arrives, at most once per `delayMs` (a burst of events, one reload), and
 * when the stream restarted without a replay. This is the only refresh of event-backed lists: no polling loop.
 */
export function useReloadOnEvents(
  /** null: every type (with `accept` deciding) */
  types: readonly string[] | null,
  reload: () => void,
  delayMs = 250,
  /** Only events this accepts (e.g. those of one job); every event of `types` when left out. */
  accept: (event: ServerEvent) => boolean = () => true,
): void {
  const { resyncCount } = useDashboard();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const schedule = () => {
    if (timer.current === undefined) {
      timer.current = setTimeout(() => {
        timer.current = undefined;
        reload();
      }, delayMs);
    }
  };
  useServerEvents((event) => {
    if ((types === null || types.includes(event.type)) && accept(event)) schedule();
  });
  const firstResync = useRef(resyncCount);
  useEffect(() => {
    if (resyncCount !== firstResync.current) schedule();
  }, [resyncCount]);
  useEffect(() => () => clearTimeout(timer.current), []);
}

/** The current time, refreshed every `intervalMs`, for durations and countdowns computed on the page. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}
