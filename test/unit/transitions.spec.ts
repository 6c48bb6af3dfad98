import {
  ACTIVE_STATUSES,
  canTransition,
  isTerminal,
  JOB_STATUSES,
  JobStatus,
  TERMINAL_STATUSES,
} from '../../src/common/job-status';

/** pending < uploading < queued < running < terminal; any forward jump is allowed; terminal never changes. */
const ALLOWED: Record<JobStatus, JobStatus[]> = {
  pending: ['uploading', 'queued', 'running', 'completed', 'failed', 'cancelled'],
  uploading: ['queued', 'running', 'completed', 'failed', 'cancelled'],
  queued: ['running', 'completed', 'failed', 'cancelled'],
  running: ['completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

const pairs = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to, ALLOWED[from].includes(to)] as const));

describe('job status transitions (every pair)', () => {
  it('covers all 49 pairs', () => {
    expect(pairs).toHaveLength(49);
  });

  it.each(pairs)('%s -> %s allowed=%s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('splits statuses into active and terminal', () => {
    expect([...ACTIVE_STATUSES]).toEqual(['pending', 'uploading', 'queued', 'running']);
    expect([...TERMINAL_STATUSES]).toEqual(['completed', 'failed', 'cancelled']);
    for (const s of TERMINAL_STATUSES) expect(isTerminal(s)).toBe(true);
    for (const s of ACTIVE_STATUSES) expect(isTerminal(s)).toBe(false);
  });
});
