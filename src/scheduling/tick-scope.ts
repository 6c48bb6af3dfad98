import { LogContext, LogFields, runWithCorrelationId } from '../context';
import type { TickContext } from '../common/scheduled-task.types';

/**
 * Work on one subject (a job) inside a tick logs under the correlation id stored on that subject, so
 * `jq 'select(.correlation_id == "<submit id>")'` follows the job from its submit request through every worker
 * (SPEC §2). `tick_id` in extra still leads back to the tick's own lines (it equals the tick's correlation id).
 */
export function runForSubject<T>(
  ctx: TickContext,
  subjectCorrelationId: string | null | undefined,
  fields: LogFields,
  fn: () => T,
): T {
  const id = subjectCorrelationId || ctx.correlationId;
  return runWithCorrelationId(id, () => LogContext.run({ ...fields, tick_id: ctx.tickId }, fn));
}
