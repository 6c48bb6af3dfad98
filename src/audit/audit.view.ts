import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiInt, ApiUuid } from '../openapi';

export class AuditActorView {
  /** The user who made the change; null for the system (expiry, retention) */
  @ApiUuid({ nullable: true })
  id: string | null;
  /** The user's name as it was then */
  @ApiProperty({ type: String, nullable: true, example: 'ada' })
  username: string | null;
  /** The API key the change was made with */
  @ApiUuid({ nullable: true })
  api_key_id: string | null;
}

export class AuditTargetView {
  @ApiProperty({ example: 'user' })
  type: string;
  @ApiProperty({ type: String, nullable: true, example: '3f1c2b9e-8a4d-4c6e-9b1a-2d7e5f0a1c3b' })
  id: string | null;
}

/** One change: who, what, and the record before and after it (secrets redacted). */
export class AuditView {
  /** Increasing with time */
  @ApiProperty({ example: '1042' })
  id: string;
  @ApiDateTime()
  at: string;
  actor: AuditActorView;
  /** The organisation the change belongs to */
  @ApiUuid({ nullable: true })
  org_id: string | null;
  @ApiProperty({ example: 'user.update' })
  action: string;
  target: AuditTargetView;
  /** The changed fields before the change (null on a creation) */
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, example: { level: 'researcher' } })
  before: unknown;
  /** The changed fields after it (null on a deletion) */
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, example: { level: 'lead' } })
  after: unknown;
  /** The request's X-Correlation-ID, to find its log lines */
  @ApiProperty({ type: String, nullable: true })
  correlation_id: string | null;
  /** The address the change came from (after the trusted proxies); null for the system */
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  client_ip: string | null;
}

export class AuditListView {
  @ApiProperty({ type: [AuditView] })
  entries: AuditView[];
  /** All entries matching the filters */
  @ApiInt()
  total: number;
}
