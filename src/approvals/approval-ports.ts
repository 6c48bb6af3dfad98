/**
 * What approvals needs from the queue, as an injection token so that this module names only the two calls it
 * makes; ApprovalsModule binds it to QueueService. Both join the caller's transaction.
 */
export interface ApprovalQueue {
  /** The entry leaves `blocked` and joins the queue as `pending`. */
  unblock(jobId: string): Promise<unknown>;
  /** The entry ends with this status and reason (releases nothing: a blocked entry holds no slot). */
  cancelEntry(jobId: string, status: 'failed' | 'cancelled', reason: string): Promise<unknown>;
}
export const APPROVAL_QUEUE = Symbol('APPROVAL_QUEUE');
