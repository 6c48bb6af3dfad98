const TONES: Record<string, string> = {
  pending: 'wait',
  blocked: 'wait',
  uploading: 'busy',
  queued: 'busy',
  dispatching: 'busy',
  running: 'busy',
  copying: 'busy',
  completed: 'good',
  approved: 'good',
  stored: 'good',
  failed: 'bad',
  rejected: 'bad',
  expired: 'bad',
  cancelled: 'off',
};

/** A status as text (never colour alone): the colour only helps the eye find it. */
export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${TONES[status] ?? 'off'}`}>{status}</span>;
}
