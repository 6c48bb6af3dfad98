import { ApiProperty, PartialType, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { PaginationQuery } from '../common/pagination.dto';
import { ApiEnum } from '../openapi';
import { CHANNEL_KINDS, ChannelKind, OWNER_SCOPES, OwnerScope } from './notification-channel.entity';
import { NOTIFICATION_TYPES } from './notification-types';

export class ChannelConfigDto {
  /** `webhook` and `slack`: the https:// URL deliveries are posted to */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @ApiProperty({ required: false, example: 'https://ci.example.com/hooks/simpletuner' })
  url?: string;

  /** `email`: addresses, or the roles `owner` (the job's submitter) and `approvers` (who may decide the request) */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(254, { each: true })
  @ApiProperty({ required: false, type: [String], example: ['ops@example.com', 'approvers'] })
  recipients?: string[];
}

export class ChannelFiltersDto {
  /** Only events about jobs the channel's creator submitted */
  @IsOptional()
  @IsBoolean()
  job_owner_only?: boolean;

  /** Only events of jobs estimated (or known) to cost at least this many dollars */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1_000_000_000)
  min_cost?: number;
}

export class CreateChannelDto {
  @IsIn(CHANNEL_KINDS)
  @ApiEnum(CHANNEL_KINDS, 'ChannelKind', { example: 'webhook' })
  kind: ChannelKind;

  @IsString()
  @Length(1, 200)
  @ApiProperty({ example: 'CI pipeline' })
  name: string;

  /** `user` (default): your own jobs' events; `org` (lead): your organisation's; `global` (admin): every event */
  @IsOptional()
  @IsIn(OWNER_SCOPES)
  @ApiEnum(OWNER_SCOPES, 'ChannelOwnerScope', { required: false, example: 'user' })
  owner_scope?: OwnerScope;

  /** `org` channels of an admin: the organisation (default the caller's) */
  @IsOptional()
  @IsUUID()
  @ApiProperty({ required: false, format: 'uuid' })
  org_id?: string;

  @ValidateNested()
  @Type(() => ChannelConfigDto)
  config: ChannelConfigDto;

  /** The event types the channel hears */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(NOTIFICATION_TYPES.length)
  @IsIn(NOTIFICATION_TYPES, { each: true })
  @ApiProperty({ enum: NOTIFICATION_TYPES, isArray: true, example: ['job.completed', 'job.failed'] })
  events: string[];

  @IsOptional()
  @ValidateNested()
  @Type(() => ChannelFiltersDto)
  filters?: ChannelFiltersDto;

  /** Default true */
  @IsOptional()
  @IsBoolean()
  is_active?: boolean;
}

/** Fields left out keep their value; a channel's kind and owner never change. */
export class UpdateChannelDto extends PartialType(
  PickType(CreateChannelDto, ['name', 'config', 'events', 'filters', 'is_active'] as const),
) {}

const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

export class DeliveriesQuery extends PaginationQuery {
  @IsOptional()
  @IsUUID()
  @ApiProperty({ required: false, format: 'uuid' })
  channel_id?: string;

  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  @ApiEnum(DELIVERY_STATUSES, 'DeliveryStatus', { required: false })
  status?: (typeof DELIVERY_STATUSES)[number];
}
