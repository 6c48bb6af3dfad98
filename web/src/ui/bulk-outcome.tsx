import { shortId } from '../format';

/** What a bulk action answered, as the page keeps it: the counts and each failed id with the API's reason. */
export interface BulkOutcomeData {
  action: string;
  succeeded: number;
  failed: number;
  failures: { id: string; name: string; message: string }[];
}

/** The counts of a bulk action's answer and why each failed id failed (the service decides every id on its own). */
export function toOutcome(
  action: string,
  answer: { succeeded: number; failed: number; results: { ok: boolean; error?: { message: string } }[] },
  ids: string[],
  nameOf: (id: string) => string,
): BulkOutcomeData {
  const failures = answer.results
    .map((r, i) => ({ id: ids[i], name: nameOf(ids[i]), message: r.error?.message ?? 'failed', ok: r.ok }))
    .filter((r) => !r.ok)
    .map(({ id, name, message }) => ({ id, name, message }));
  return { action, succeeded: answer.succeeded, failed: answer.failed, failures };
}

export function BulkOutcome({ outcome, onDismiss }: { outcome: BulkOutcomeData | null; onDismiss: () => void }) {
  if (!outcome) return null;
  return (
    <div
      class={outcome.failed ? 'notice notice-error bulk-outcome' : 'notice bulk-outcome'}
      role="status"
      aria-label="Bulk result"
    >
      <p>
        <strong>{outcome.action}:</strong> {outcome.succeeded} succeeded, {outcome.failed} failed
      </p>
      {outcome.failures.length > 0 && (
        <ul>
          {outcome.failures.map((f) => (
            <li key={f.id}>
              {f.name} <code class="id">{shortId(f.id)}</code>: {f.message}
            </li>
          ))}
        </ul>
      )}
      <button type="button" class="secondary" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
