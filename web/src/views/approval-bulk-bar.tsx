import { useState } from 'preact/hooks';
import { useDashboard } from '../dashboard-context';
import type { BulkDecisions } from '../api-types';
import { BulkOutcome, type BulkOutcomeData, toOutcome } from '../ui/bulk-outcome';

interface ApprovalBulkBarProps {
  selected: string[];
  nameOf: (requestId: string) => string;
  onDone: () => void;
}

/**
 * Approve or reject the selected requests in one request, then each one's outcome (the service refuses, per id, a
 * request the caller may not decide). An empty reason is sent as is: the API's refusal is what the user sees.
 */
export function ApprovalBulkBar({ selected, nameOf, onDone }: ApprovalBulkBarProps) {
  const { api, reportFailure } = useDashboard();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<BulkOutcomeData | null>(null);
  const decide = async (action: 'approve' | 'reject') => {
    const label = `${action === 'approve' ? 'Approve' : 'Reject'} ${selected.length} requests`;
    setBusy(true);
    try {
      const body = { action, ids: selected, ...(action === 'reject' ? { reason } : {}) };
      const answer = await api.post<BulkDecisions>('/api/approvals/requests/bulk', body);
      setOutcome(toOutcome(label, answer, selected, nameOf));
      onDone();
    } catch (err) {
      reportFailure(label, err);
    } finally {
      setBusy(false);
    }
  };
  const none = busy || selected.length === 0;
  return (
    <>
      <form
        class="bulk-bar"
        aria-label="Selected requests"
        onSubmit={(e) => {
          e.preventDefault();
          void decide('reject');
        }}
      >
        <span>{selected.length ? `${selected.length} selected` : 'Select requests to decide several at once'}</span>
        <button type="button" disabled={none} onClick={() => void decide('approve')}>
          Approve selected
        </button>
        <label>
          Reason
          <input
            type="text"
            maxLength={2000}
            value={reason}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
            placeholder="Why they are rejected"
          />
        </label>
        <button type="submit" class="danger" disabled={none}>
          Reject selected
        </button>
      </form>
      <BulkOutcome outcome={outcome} onDismiss={() => setOutcome(null)} />
    </>
  );
}
