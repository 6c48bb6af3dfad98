/** The API's response shapes, as far as the dashboard reads them. */

export type Level = 'viewer' | 'researcher' | 'lead' | 'admin';

export interface Me {
  id: string;
  username: string;
  level: Level;
  org_id: string;
}

export interface UserSummary {
  id: string;
  username: string;
  level: Level;
}

// The service's own status vocabulary and forward-only rule (a dependency-free file), bundled into the page.
import type { JobStatus } from '../../src/common/job-status';
export { JOB_STATUSES, canTransition, isTerminal } from '../../src/common/job-status';
export type { JobStatus };

export interface Job {
  job_id: string;
  user_id: string;
  org_id: string;
  provider: string;
  status: JobStatus;
  config_name: string;
  hardware_profile: string;
  cost_estimate: number | string | null;
  cost_usd: number | string | null;
  error_message: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  is_terminal: boolean;
  duration_seconds: number | null;
  queue_position: number | null;
}

export type WaitReason = 'user_limit' | 'org_limit' | 'global_limit' | 'awaiting_approval' | 'backoff';

export interface QueueEntry {
  job_id: string;
  user_id: string;
  org_id: string;
  provider: string;
  status: 'pending' | 'blocked' | 'dispatching' | 'running' | 'completed' | 'failed' | 'cancelled';
  priority: number;
  priority_override: number | null;
  effective_priority: number;
  position: number | null;
  blocked_reason: WaitReason | null;
  attempt: number;
  last_error: string | null;
  queued_at: string | null;
}

export interface QueuePosition {
  position: number | null;
  effective_priority: number;
  estimated_wait_seconds: number | null;
  blocked_reason: WaitReason | null;
}

interface QueueLimits {
  max_concurrent: number;
  user_max_concurrent: number;
  org_max_concurrent: number;
  source: Record<'max_concurrent' | 'user_max_concurrent' | 'org_max_concurrent', 'database' | 'config'>;
}

export interface QueueStats {
  by_status: Record<string, number>;
  depth: number;
  blocked: number;
  running: number;
  avg_wait_seconds: number | null;
  limits: QueueLimits;
}

type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';

export interface ApprovalRequest {
  id: string;
  job_id: string;
  user_id: string;
  org_id: string;
  rule_name: string | null;
  status: ApprovalStatus;
  reason: string | null;
  estimated_cost: number | string | null;
  required_approver_level: Level;
  created_at: string;
  expires_at: string;
  reviewed_by: string | null;
  reviewed_at: string | null;
  review_notes: string | null;
}

export interface TaskState {
  name: string;
  interval_seconds: number | null;
  schedule: string;
  enabled: boolean;
  reason: string | null;
  leader: boolean;
  running: boolean;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_duration_ms: number | null;
  last_error: string | null;
  runs: number;
  failures: number;
}

export interface PollingStatus {
  is_active: boolean;
  preference: boolean | null;
  reason: string;
  interval_seconds: number;
}

/** One message of GET /api/events: `data` is the event's flat JSON payload. */
export interface ServerEvent {
  id: string;
  type: string;
  data: { type?: string; job_id?: string; status?: string; previous_status?: string; [key: string]: unknown };
  receivedAt: number;
}
