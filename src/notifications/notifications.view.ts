import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiEnum, ApiInt, ApiUuid } from '../openapi';
import { CHANNEL_KINDS, ChannelKind, OWNER_SCOPES, OwnerScope } from './notification-channel.entity';
import { ChannelConfigDto, ChannelFiltersDto } from './notifications.dto';

export class ChannelView {
  @ApiUuid()
  id: string;
  @ApiEnum(CHANNEL_KINDS, 'ChannelKind', { example: 'webhook' })
  kind: ChannelKind;
  name: string;
  @ApiEnum(OWNER_SCOPES, 'ChannelOwnerScope', { example: 'user' })
  owner_scope: OwnerScope;
  @ApiUuid({ nullable: true })
  org_id: string | null;
  @ApiUuid({ nullable: true })
  user_id: string | null;
  @ApiProperty({ type: ChannelConfigDto })
  config: ChannelConfigDto;
  @ApiProperty({ type: [String], example: ['job.completed'] })
  events: string[];
  @ApiProperty({ type: ChannelFiltersDto })
  filters: ChannelFiltersDto;
  is_active: boolean;
  /** Why the service switched it off (its last 20 deliveries failed) */
  @ApiProperty({ type: String, nullable: true })
  disabled_reason: string | null;
  /** Webhook channels: a signing secret is set (it is shown only when created or rotated) */
  has_signing_secret: boolean;
  @ApiUuid({ nullable: true })
  created_by: string | null;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime()
  updated_at: string;
}

/** A webhook channel as created: with its signing secret, shown this once. */
export class CreatedChannelView extends ChannelView {
  /** `whsec_…`: verify deliveries with it (Standard Webhooks); it is not shown again */
  @ApiProperty({ required: false, example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  signing_secret?: string;
}

export class RotatedSecretView {
  @ApiUuid()
  channel_id: string;
  /** The new `whsec_…` secret; deliveries are signed with it from now on */
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  signing_secret: string;
}

export class ChannelListView {
  @ApiProperty({ type: [ChannelView] })
  channels: ChannelView[];
}

export class DeletedChannelView {
  @ApiProperty({ enum: [true] })
  deleted: true;
  @ApiUuid()
  id: string;
}

export class DeliveryView {
  /** Also the `webhook-id` header: receivers dedupe on it */
  @ApiUuid()
  id: string;
  @ApiUuid()
  channel_id: string;
  /** The event of the log it delivers (null for a test) */
  @ApiProperty({ type: String, nullable: true, example: '1042' })
  event_id: string | null;
  @ApiProperty({ example: 'job.completed' })
  type: string;
  @ApiEnum(['pending', 'succeeded', 'failed'], 'DeliveryStatus')
  status: 'pending' | 'succeeded' | 'failed';
  @ApiInt()
  attempts: number;
  @ApiInt({ nullable: true })
  last_status_code: number | null;
  @ApiProperty({ type: String, nullable: true })
  last_error: string | null;
  /** The last attempt's duration */
  @ApiInt({ nullable: true })
  duration_ms: number | null;
  /** The first KiB of the last answer */
  @ApiProperty({ type: String, nullable: true })
  response_excerpt: string | null;
  /** When a pending delivery is tried next */
  @ApiDateTime({ nullable: true })
  next_attempt_at: string | null;
  @ApiDateTime()
  created_at: string;
  @ApiDateTime({ nullable: true })
  delivered_at: string | null;
}

export class DeliveryListView {
  @ApiProperty({ type: [DeliveryView] })
  deliveries: DeliveryView[];
  @ApiInt()
  total: number;
}

export class TestDeliveryView {
  @ApiUuid()
  delivery_id: string;
  @ApiEnum(['pending', 'succeeded', 'failed'], 'DeliveryStatus')
  status: 'pending' | 'succeeded' | 'failed';
  @ApiInt({ nullable: true })
  status_code: number | null;
  @ApiInt({ nullable: true })
  duration_ms: number | null;
  @ApiProperty({ type: String, nullable: true })
  error: string | null;
}
