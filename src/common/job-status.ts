/** The job statuses and the forward-only rule every writer goes through. */
export const JOB_STATUSES = ['pending', 'uploading', 'queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const ACTIVE_STATUSES: readonly JobStatus[] = ['pending', 'uploading', 'queued', 'running'];
export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

const RANK: Record<JobStatus, number> = {
  pending: 0,
  uploading: 1,
  queued: 2,
  running: 3,
  completed: 4,
  failed: 4,
  cancelled: 4,
};

export function isTerminal(status: JobStatus): boolean {
  return RANK[status] === 4;
}

/**
 * Forward only: pending < uploading < queued < running < terminal. Any jump forward is allowed (a webhook may
 * report `succeeded` for a job still `pending` here); a terminal status never changes; same status is no move.
 */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  if (isTerminal(from)) return false;
  return RANK[to] > RANK[from];
}
