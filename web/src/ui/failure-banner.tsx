export interface Failure {
  action: string;
  message: string;
  correlationId: string | null;
  at: number;
}

/**
 * The last failed action with its correlation id, which a user hands to an operator who greps the log for it.
 * The live region is always in the page, so screen readers announce a new failure.
 */
export function FailureBanner({ failure, onDismiss }: { failure: Failure | null; onDismiss: () => void }) {
  return (
    <div class={failure ? 'failure' : 'failure failure-empty'} role="alert" aria-label="Last failed action">
      {failure && (
        <>
          <p>
            <strong>{failure.action} failed:</strong> {failure.message}
            <br />
            Correlation id: <code>{failure.correlationId ?? 'none (the service did not answer)'}</code>
          </p>
          <button type="button" class="secondary" onClick={onDismiss}>
            Dismiss
          </button>
        </>
      )}
    </div>
  );
}
