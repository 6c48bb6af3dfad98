import type { ComponentChildren } from 'preact';
import type { Resource } from '../hooks';

interface ListStateProps<T> {
  resource: Resource<T>;
  /** What is being loaded, e.g. "jobs" (used in the loading and error lines). */
  what: string;
  isEmpty: (data: T) => boolean;
  empty: ComponentChildren;
  children: (data: T) => ComponentChildren;
  /** False for a second list drawn from the same resource: its loading and error lines are shown once. */
  showStatus?: boolean;
}

/** Every list's loading, error and empty states, so no view forgets one. An error keeps the last data visible. */
export function ListState<T>({ resource, what, isEmpty, empty, children, showStatus = true }: ListStateProps<T>) {
  const { data, error, loading, reload } = resource;
  return (
    <>
      {showStatus && error && (
        <div class="notice notice-error" role="alert">
          <p>
            Could not load {what}: {error.fullMessage}
            {error.correlationId && (
              <>
                {' '}
                (correlation id <code>{error.correlationId}</code>)
              </>
            )}
          </p>
          <button type="button" class="secondary" onClick={reload}>
            Retry
          </button>
        </div>
      )}
      {showStatus && loading && data === undefined && (
        <p class="placeholder" role="status">
          Loading {what}…
        </p>
      )}
      {data !== undefined && (isEmpty(data) ? <p class="placeholder">{empty}</p> : children(data))}
    </>
  );
}
