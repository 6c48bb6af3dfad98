import type { EntityManager } from 'typeorm';

/**
 * What approvals needs from the queue (SPEC §6/§7), as an injection token so that this module names only the
 * two calls it makes; ApprovalsModule binds it to QueueService.
 */
export interface ApprovalQueue {
  /** The entry leaves `blocked` and joins the queue as `pending`. */
  unblock(manager: EntityManager, jobId: string): Promise<unknown>;
  /** The entry ends with this status and reason (releases nothing: a blocked entry holds no slot). */
  cancelEntry(manager: EntityManager, jobId: string, status: 'failed' | 'cancelled', reason: string): Promise<unknown>;
}
export const APPROVAL_QUEUE = Symbol('APPROVAL_QUEUE');

export interface ApprovalEvent {
  type: 'approval_required' | 'approval_approved' | 'approval_rejected' | 'approval_expired';
  jobId: string;
  userId: string;
  orgId: string;
  /** Flat payload; `type` and `job_id` are included by the publisher (SPEC §9). */
  data: Record<string, unknown>;
}

/** Stores an event in the caller's transaction (SPEC §9); bound to the events module's publisher. */
export interface ApprovalEvents {
  publish(manager: EntityManager, event: ApprovalEvent): Promise<unknown>;
}
export const APPROVAL_EVENTS = Symbol('APPROVAL_EVENTS');
