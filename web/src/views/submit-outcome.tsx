import { useState } from 'preact/hooks';
import { canTransition } from '../../../src/common/job-status';
import type { ApiError } from '../api';
import type { ApprovalRequest, SubmittedJob } from '../api-types';
import { useServerEvents } from '../dashboard-context';
import { dateTime, money, shortId } from '../format';
import { StatusBadge } from '../ui/status-badge';
import { isJobStatus } from './jobs-view';

export interface Outcome {
  job: SubmittedJob;
  name: string;
  /** The request holding the job, when a rule requires an approval (or why it could not be read). */
  approval: ApprovalRequest | ApiError | null;
}

/** Why the job waits and who may let it go, in a sentence under the facts. */
function ApprovalNote({ approval }: { approval: ApprovalRequest | ApiError }) {
  if (!('job_id' in approval)) {
    return (
      <p class="approval-note">
        <strong>Waits for approval.</strong> Its request could not be read: {approval.fullMessage}
        {approval.correlationId && (
          <>
            {' '}
            (correlation id <code>{approval.correlationId}</code>)
          </>
        )}
      </p>
    );
  }
  return (
    <p class="approval-note">
      <strong>Waits for approval:</strong> {approval.reason || approval.rule_name || 'a rule requires it'}. A{' '}
      {approval.required_approver_level} or above decides before{' '}
      <time dateTime={approval.expires_at}>{dateTime(approval.expires_at)}</time>; after that the job is cancelled.
    </p>
  );
}

/** What became of a submission: the job with its status (kept live), its place in the queue, or the approval. */
export function SubmitOutcome({ outcome }: { outcome: Outcome }) {
  const { job, name, approval } = outcome;
  const [status, setStatus] = useState(job.status);
  useServerEvents(({ data }) => {
    if (data.type !== 'job_status_changed' || data.job_id !== job.job_id || !isJobStatus(data.status)) return;
    const next = data.status;
    setStatus((now) => (canTransition(now, next) ? next : now));
  });
  const position =
    job.queue_position !== null
      ? `${job.queue_position} when submitted`
      : job.requires_approval
        ? 'after approval'
        : '—';
  return (
    <section class="card outcome" id="submit-outcome" tabIndex={-1} aria-labelledby="outcome-heading">
      <h3 id="outcome-heading">
        Submitted {name} <code class="id">{shortId(job.job_id)}</code>
      </h3>
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={status} />
          </dd>
        </div>
        <div>
          <dt>Queue position</dt>
          <dd>{position}</dd>
        </div>
        <div>
          <dt>Estimated cost</dt>
          <dd>{money(job.cost_estimate)}</dd>
        </div>
      </dl>
      {approval && <ApprovalNote approval={approval} />}
      <p>
        Follow it in <a href="#jobs">Jobs</a>
        {job.requires_approval ? (
          <>
            {' '}
            and <a href="#approvals">Approvals</a>
          </>
        ) : (
          <>
            {' '}
            and <a href="#queue">Queue</a>
          </>
        )}
        .
      </p>
    </section>
  );
}
