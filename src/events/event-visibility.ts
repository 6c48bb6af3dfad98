import { AccessPolicy } from '../auth';
import type { AuthenticatedUser } from '../auth';
import type { StoredEvent } from './events.types';

const policy = new AccessPolicy();

/**
 * Who may see an event: AccessPolicy's rule for what the event is about (admin everything; lead and viewer their
 * org's; everyone their own). An event with no job, user or org (queue_limits_changed) is a notice for every
 * caller; a job event missing its owner stays admin-only. The in-memory check (live fan-out) and its SQL twin
 * below (replay) must agree; a test checks both against the same cases.
 */
export function canSee(user: AuthenticatedUser, event: Pick<StoredEvent, 'jobId' | 'userId' | 'orgId'>): boolean {
  return policy.canSee(user, event);
}

export interface StreamFilter {
  jobId: string | null;
  /** null = every type */
  types: ReadonlySet<string> | null;
}

export function matchesFilter(filter: StreamFilter, event: Pick<StoredEvent, 'jobId' | 'type'>): boolean {
  if (filter.jobId !== null && event.jobId !== filter.jobId) return false;
  return filter.types === null || filter.types.has(event.type);
}

/** Collects positional parameters for a WHERE clause. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The SQL twin of canSee + matchesFilter, for replays read from the table. */
export function visibilitySql(user: AuthenticatedUser, filter: StreamFilter, params: SqlParams): string {
  const clauses: string[] = [];
  if (user.level !== 'admin') {
    const own = `user_id = ${params.add(user.id)}::uuid`;
    const system = `(job_id IS NULL AND user_id IS NULL AND org_id IS NULL)`;
    const org = user.level === 'lead' || user.level === 'viewer' ? ` OR org_id = ${params.add(user.orgId)}::uuid` : '';
    clauses.push(`(${own} OR ${system}${org})`);
  }
  if (filter.jobId !== null) clauses.push(`job_id = ${params.add(filter.jobId)}`);
  if (filter.types !== null) clauses.push(`type = ANY(${params.add([...filter.types])}::text[])`);
  return clauses.length ? clauses.join(' AND ') : 'true';
}
