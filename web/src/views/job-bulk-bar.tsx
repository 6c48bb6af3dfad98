import { useState } from 'preact/hooks';
import { useDashboard } from '../dashboard-context';
import type { BulkJobs } from '../api-types';
import { BulkOutcome, type BulkOutcomeData, toOutcome } from '../ui/bulk-outcome';

const ACTIONS = [
  { action: 'cancel', label: 'Cancel', danger: true },
  { action: 'retry', label: 'Retry', danger: false },
  { action: 'delete', label: 'Delete', danger: true },
] as const;

interface JobBulkBarProps {
  selected: string[];
  /** Whether the page lists any job the caller may act on: without one the toolbar is only clutter. */
  anySelectable: boolean;
  nameOf: (jobId: string) => string;
  /** After an answer: the selection clears and the list reloads. */
  onDone: () => void;
}

/** Cancel, retry or delete the selected jobs in one request, then each id's outcome. */
export function JobBulkBar({ selected, anySelectable, nameOf, onDone }: JobBulkBarProps) {
  const { api, reportFailure } = useDashboard();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<BulkOutcomeData | null>(null);
  const run = async (action: (typeof ACTIONS)[number]) => {
    setBusy(true);
    try {
      const answer = await api.post<BulkJobs>('/api/cloud/jobs/bulk', { action: action.action, job_ids: selected });
      setOutcome(toOutcome(`${action.label} ${selected.length} jobs`, answer, selected, nameOf));
      onDone();
    } catch (err) {
      reportFailure(`${action.label} ${selected.length} jobs`, err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {anySelectable && (
        <div class="bulk-bar" role="toolbar" aria-label="Selected jobs">
          <span>{selected.length ? `${selected.length} selected` : 'Select jobs to act on several at once'}</span>
          {ACTIONS.map((a) => (
            <button
              key={a.action}
              type="button"
              class={a.danger ? 'danger' : 'secondary'}
              disabled={busy || selected.length === 0}
              onClick={() => void run(a)}
            >
              {a.label} selected
            </button>
          ))}
        </div>
      )}
      {/* Kept when the list empties: a bulk delete of every listed job still shows what became of each. */}
      <BulkOutcome outcome={outcome} onDismiss={() => setOutcome(null)} />
    </>
  );
}
