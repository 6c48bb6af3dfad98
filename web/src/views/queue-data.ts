import type { Api } from '../api';
import type { Job, JobList, OrgList, QueueEntry, QueueList, QueuePosition, QueueStats } from '../api-types';

/** The list route pages newest first; dispatch order comes from positions, so read the whole waiting set. */
const MAX_LIST = 500;
/** Reasons and ETAs cost one request per job: only the head of the queue gets them. */
export const DETAILED_HEAD = 20;

export interface WaitingJob {
  entry: QueueEntry;
  job: Job | undefined;
  detail: QueuePosition | undefined;
}

export interface QueueSnapshot {
  waiting: WaitingJob[];
  /** More waiting entries exist than were read. */
  truncated: boolean;
  running: QueueEntry[];
  /** Admin only: limits and counts. */
  stats: QueueStats | null;
  orgNames: ReadonlyMap<string, string>;
}

/** Everything the Queue view shows, read in parallel; admin-only parts are asked for by admins only. */
export async function loadQueue(api: Api, admin: boolean): Promise<QueueSnapshot> {
  const [pending, blocked, jobs, stats, running, dispatching, orgs] = await Promise.all([
    api.get<QueueList>(`/api/queue?status=pending&limit=${MAX_LIST}`),
    api.get<QueueList>(`/api/queue?status=blocked&limit=${MAX_LIST}`),
    api.get<JobList>(`/api/cloud/jobs?status=pending&limit=${MAX_LIST}`),
    admin ? api.get<QueueStats>('/api/queue/stats') : null,
    admin ? api.get<QueueList>(`/api/queue?status=running&limit=${MAX_LIST}`) : null,
    admin ? api.get<QueueList>(`/api/queue?status=dispatching&limit=${MAX_LIST}`) : null,
    admin ? api.get<OrgList>('/api/orgs') : null,
  ]);
  const jobsById = new Map(jobs.jobs.map((j) => [j.job_id, j]));
  const byPosition = [...pending.entries].sort((a, b) => (a.position ?? Infinity) - (b.position ?? Infinity));
  const byAge = [...blocked.entries].sort((a, b) => (a.queued_at ?? '').localeCompare(b.queued_at ?? ''));
  const head = byPosition.slice(0, DETAILED_HEAD);
  const details = await Promise.all(
    head.map((e) => api.get<QueuePosition>(`/api/queue/position/${e.job_id}`).catch(() => undefined)),
  );
  const detailById = new Map(head.map((e, i) => [e.job_id, details[i]]));
  return {
    waiting: [...byPosition, ...byAge].map((entry) => ({
      entry,
      job: jobsById.get(entry.job_id),
      detail: detailById.get(entry.job_id),
    })),
    truncated: pending.total > pending.entries.length || blocked.total > blocked.entries.length,
    running: [...(running?.entries ?? []), ...(dispatching?.entries ?? [])],
    stats,
    orgNames: new Map((orgs?.orgs ?? []).map((o) => [o.id, o.name])),
  };
}
