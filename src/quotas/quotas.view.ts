import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiEnum, ApiInt, ApiUuid } from '../openapi';
import { QUOTA_ACTIONS, QUOTA_SCOPES, QUOTA_TYPES, QuotaAction, QuotaScope, QuotaType } from './quota.entity';
import { USAGE_GROUPS, UsageGroup } from './spend.repository';

export class QuotaView {
  @ApiUuid()
  id: string;
  @ApiEnum(QUOTA_SCOPES, 'QuotaScope', { example: 'org' })
  scope: QuotaScope;
  /** The org id, level name, user id or provider name; null for `global` */
  @ApiProperty({ type: String, nullable: true })
  scope_id: string | null;
  @ApiEnum(QUOTA_TYPES, 'QuotaType', { example: 'cost_monthly' })
  type: QuotaType;
  /** Dollars for cost types, a count for the others */
  @ApiProperty({ example: 500 })
  limit: number;
  @ApiEnum(QUOTA_ACTIONS, 'QuotaAction', { example: 'block' })
  action: QuotaAction;
  is_active: boolean;
  /** Who created it (null once that user is gone) */
  @ApiUuid({ nullable: true })
  created_by: string | null;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

export class QuotaListView {
  @ApiProperty({ type: [QuotaView] })
  quotas: QuotaView[];
}

export class DeletedQuotaView {
  @ApiProperty({ enum: [true] })
  deleted: true;
  @ApiUuid()
  id: string;
}

/** One quota that applies to the caller, with what the caller's subject has used of it now. */
export class MyQuotaView {
  @ApiUuid()
  quota_id: string;
  @ApiEnum(QUOTA_SCOPES, 'QuotaScope', { example: 'user' })
  scope: QuotaScope;
  @ApiEnum(QUOTA_TYPES, 'QuotaType', { example: 'cost_daily' })
  type: QuotaType;
  @ApiProperty({ example: 100 })
  limit: number;
  /** Cost (dollars) or submissions in the current window, or jobs dispatching and running (`concurrent_jobs`) */
  @ApiProperty({ example: 42.5 })
  used: number;
  /** limit − used, never below 0 */
  @ApiProperty({ example: 57.5 })
  remaining: number;
  @ApiEnum(QUOTA_ACTIONS, 'QuotaAction', { example: 'block' })
  action: QuotaAction;
  /**
   * When the window frees room: the next UTC midnight or first of the month, or when the oldest counted submission
   * leaves the rolling window; null for `concurrent_jobs`
   */
  @ApiDateTime({ nullable: true })
  resets_at: string | null;
}

export class UsageTotalsView {
  @ApiInt()
  jobs: number;
  @ApiInt()
  completed: number;
  @ApiInt()
  failed: number;
  @ApiInt()
  cancelled: number;
  /** Actual spend of the jobs whose cost is known (dollars) */
  @ApiProperty({ example: 12.5 })
  cost_usd: number;
  /** Estimates of active jobs whose cost is not known yet (dollars) */
  @ApiProperty({ example: 3.5 })
  open_estimate: number;
  /** GPUs × seconds from start to finish (to now for running jobs) */
  @ApiProperty({ example: 7200 })
  gpu_seconds: number;
}

export class UsageRowView extends UsageTotalsView {
  /** The day (YYYY-MM-DD, UTC), user id, org id, hardware profile or provider */
  @ApiProperty({ example: '2026-12-06' })
  key: string;
  /** The username or org name when the key is a user or org; else null */
  @ApiProperty({ type: String, nullable: true })
  label: string | null;
}

export class UsageReportView {
  @ApiDateTime()
  from: string;
  @ApiDateTime()
  to: string;
  @ApiEnum(USAGE_GROUPS, 'UsageGroup', { example: 'day' })
  group_by: UsageGroup;
  /** Jobs created in [from, to), grouped, ordered by key */
  @ApiProperty({ type: [UsageRowView] })
  rows: UsageRowView[];
  @ApiProperty({ type: UsageTotalsView })
  totals: UsageTotalsView;
}
