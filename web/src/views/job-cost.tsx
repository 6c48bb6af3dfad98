import { money } from '../format';
import type { Job } from '../api-types';

/** How far the actual cost landed from the estimate, in dollars and percent. */
function difference(estimate: number, actual: number): string {
  const diff = actual - estimate;
  if (Math.abs(diff) < 0.005) return 'as estimated';
  const pct = estimate > 0 ? ` (${Math.round((Math.abs(diff) / estimate) * 100)} %)` : '';
  return `${money(Math.abs(diff))}${pct} ${diff > 0 ? 'over' : 'under'} the estimate`;
}

/** The estimate made at submission beside what the run cost once the provider reported its run time. */
export function CostPanel({ job }: { job: Job }) {
  const actual = job.cost_usd;
  const pending = job.is_terminal ? 'not reported' : 'known when the run ends';
  return (
    <dl class="facts cost">
      <div>
        <dt>Estimate</dt>
        <dd>{money(job.cost_estimate)}</dd>
      </div>
      <div>
        <dt>Actual</dt>
        <dd>{actual === null ? <span class="hint">{pending}</span> : money(actual)}</dd>
      </div>
      {actual !== null && (
        <div>
          <dt>Difference</dt>
          <dd>{difference(job.cost_estimate, actual)}</dd>
        </div>
      )}
    </dl>
  );
}
