/** Who made a change: the authenticated caller (a structural type: the audit needs no more than this). */
export interface AuditActor {
  id: string;
  username: string;
  orgId: string;
  apiKeyId?: string | null;
}

/** One recorded change. `before`/`after` are the changed object's views; secrets are redacted when stored. */
export interface AuditEntry {
  actor: AuditActor | null;
  /** e.g. `user.update`, `api_key.revoke`, `approval_rule.delete`, `queue_limits.update`. */
  action: string;
  targetType: string;
  targetId: string | null;
  /** The organisation the target belongs to (what a lead's audit view is limited to); null = service-wide. */
  orgId: string | null;
  before?: unknown;
  after?: unknown;
}

/**
 * Records a change in the current unit of work (it commits or rolls back with the change). Modules inject it by
 * this token, so they depend on the port, not on the audit module.
 */
export interface AuditRecorder {
  record(entry: AuditEntry): Promise<void>;
  /** One row per entry, in one statement (a bulk action's changes). */
  recordMany(entries: AuditEntry[]): Promise<void>;
}
export const AUDIT_RECORDER = Symbol('AUDIT_RECORDER');
