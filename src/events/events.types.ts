/** What a service publishes (SPEC §9). `data` holds the type-specific fields; `type` and `job_id` are added. */
export interface NewEvent {
  type: string;
  jobId?: string | null;
  userId?: string | null;
  orgId?: string | null;
  data?: Record<string, unknown>;
}

/** An event as stored and as streamed. */
export interface StoredEvent {
  /** bigint as a string */
  id: string;
  type: string;
  jobId: string | null;
  userId: string | null;
  orgId: string | null;
  /** The flat payload clients receive: `{type, job_id, ...}`. */
  data: Record<string, unknown>;
  createdAt: Date;
}

/**
 * Where an event sits in the delivery order: (inserting transaction id, event id). Readers only hand out
 * rows whose transaction is older than every running one, so a row that commits later always sorts after
 * everything already delivered, even when its id is lower.
 */
export interface EventPosition {
  tx: bigint;
  id: bigint;
}

export const START_POSITION: EventPosition = Object.freeze({ tx: 0n, id: 0n });

/** A stored event with its position; internal to the events module. */
export interface LoggedEvent extends StoredEvent {
  position: EventPosition;
}

export function comparePositions(a: EventPosition, b: EventPosition): number {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/** Event types of SPEC §9 (publishers may add more; the stream does not restrict them). */
export const EVENT_TYPES = [
  'job_submitted',
  'job_status_changed',
  'job_dispatched',
  'approval_required',
  'approval_approved',
  'approval_rejected',
  'approval_expired',
  'cloud_job_update',
  'queue_limits_changed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The stream's own control event, sent when a Last-Event-ID is no longer (or never was) in the log. */
export const RESET_EVENT = 'reset';
