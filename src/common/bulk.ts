import { AppError } from './errors';

/** Why one id of a bulk action failed, as its single route would have answered. */
export interface BulkError {
  code: string;
  message: string;
  /** Where the item stands, when the error tells (a job's or a request's status). */
  status?: string;
}

/**
 * One id's failure: the project's errors as they are; anything else is an internal error (`onUnexpected` logs it),
 * so that it still stops no other id.
 */
export function bulkError(err: unknown, onUnexpected: (err: unknown) => void): BulkError {
  if (!(err instanceof AppError)) {
    onUnexpected(err);
    return { code: 'internal_error', message: 'Internal error' };
  }
  const status = (err.details?.current_state ?? err.details?.status) as string | undefined;
  return { code: err.code, message: err.message, ...(typeof status === 'string' ? { status } : {}) };
}

/** How many ids of a bulk action succeeded and failed, with one result per id in request order. */
export function bulkSummary<T extends { ok: boolean }>(
  results: T[],
): { results: T[]; succeeded: number; failed: number } {
  const succeeded = results.filter((r) => r.ok).length;
  return { results, succeeded, failed: results.length - succeeded };
}
