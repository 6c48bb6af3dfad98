import { useDashboard } from '../dashboard-context';
import { userName } from '../format';
import type { QueueEntry, QueueStats } from '../api-types';

/** The busiest holder of slots, e.g. the user running the most jobs, with how many. */
function busiest(entries: QueueEntry[], key: 'user_id' | 'org_id'): { id: string; count: number } | null {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e[key], (counts.get(e[key]) ?? 0) + 1);
  let best: { id: string; count: number } | null = null;
  for (const [id, count] of counts) if (!best || count > best.count) best = { id, count };
  return best;
}

interface LimitsProps {
  stats: QueueStats;
  running: QueueEntry[];
  orgNames: ReadonlyMap<string, string>;
}

/** The three limits a waiting job can hit, and how close each is to being full. */
export function QueueLimits({ stats, running, orgNames }: LimitsProps) {
  const { users, me } = useDashboard();
  const { limits } = stats;
  const topUser = busiest(running, 'user_id');
  const topOrg = busiest(running, 'org_id');
  const source = (k: keyof QueueStats['limits']['source']) =>
    limits.source[k] === 'database' ? 'set through the API' : 'from configuration';
  return (
    <section class="card limits" aria-labelledby="limits-heading">
      <h3 id="limits-heading">Limits and slot usage</h3>
      <dl class="facts">
        <div>
          <dt>Global</dt>
          <dd>
            {stats.running} of {limits.max_concurrent} slots in use <small>({source('max_concurrent')})</small>
          </dd>
        </div>
        <div>
          <dt>Per user</dt>
          <dd>
            at most {limits.user_max_concurrent} each
            {topUser && (
              <>
                ; busiest: {userName(topUser.id, users, me.id)} with {topUser.count}
              </>
            )}{' '}
            <small>({source('user_max_concurrent')})</small>
          </dd>
        </div>
        <div>
          <dt>Per organisation</dt>
          <dd>
            at most {limits.org_max_concurrent} each
            {topOrg && (
              <>
                ; busiest: {orgNames.get(topOrg.id) ?? topOrg.id.slice(0, 8)} with {topOrg.count}
              </>
            )}{' '}
            <small>({source('org_max_concurrent')})</small>
          </dd>
        </div>
        <div>
          <dt>Waiting</dt>
          <dd>
            {stats.depth} ready, {stats.blocked} awaiting approval
            {stats.avg_wait_seconds !== null && <>; average wait {Math.round(stats.avg_wait_seconds)} s</>}
          </dd>
        </div>
      </dl>
    </section>
  );
}
