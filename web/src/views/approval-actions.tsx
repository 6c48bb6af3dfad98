import { useState } from 'preact/hooks';
import { useDashboard } from '../dashboard-context';
import type { ApprovalRequest } from '../api-types';

interface ApprovalActionsProps {
  request: ApprovalRequest;
  name: string;
  onDecided: () => void;
}

/** Approve, or reject with a reason. An empty reason is sent as is: the API's refusal is what the user sees. */
export function ApprovalActions({ request, name, onDecided }: ApprovalActionsProps) {
  const { api, reportFailure } = useDashboard();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const decide = async (action: 'approve' | 'reject') => {
    setBusy(true);
    try {
      const body = action === 'approve' ? {} : { reason };
      await api.post(`/api/approvals/requests/${request.id}/${action}`, body);
      onDecided();
    } catch (err) {
      reportFailure(`${action === 'approve' ? 'Approve' : 'Reject'} ${name}`, err);
    } finally {
      setBusy(false);
    }
  };
  const reasonId = `reason-${request.id}`;
  return (
    <div class="decide">
      <button type="button" disabled={busy} onClick={() => void decide('approve')}>
        Approve<span class="sr-only"> {name}</span>
      </button>
      <form
        class="reject"
        onSubmit={(e) => {
          e.preventDefault();
          void decide('reject');
        }}
      >
        <label for={reasonId}>Reason</label>
        <input
          id={reasonId}
          type="text"
          maxLength={2000}
          value={reason}
          onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          placeholder="Why it is rejected"
        />
        <button type="submit" class="danger" disabled={busy}>
          Reject<span class="sr-only"> {name}</span>
        </button>
      </form>
    </div>
  );
}
