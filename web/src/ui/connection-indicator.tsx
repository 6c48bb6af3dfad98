import type { StreamState } from '../event-stream';

const LABELS: Record<StreamState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
};

/** Whether the page is receiving live events; while reconnecting, what it shows may be behind. */
export function ConnectionIndicator({ state }: { state: StreamState }) {
  return (
    <p class={`connection connection-${state}`} role="status" aria-label="Connection">
      <span class="dot" aria-hidden="true" />
      {LABELS[state]}
    </p>
  );
}
