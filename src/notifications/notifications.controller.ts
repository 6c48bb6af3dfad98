import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { UuidParam } from '../common/uuid-param';
import { ApiErrors } from '../openapi';
import { ChannelsService } from './channels.service';
import { channelView, deliveryView } from './channel-views';
import { CreateChannelDto, DeliveriesQuery, UpdateChannelDto } from './notifications.dto';
import { NotificationsService } from './notifications.service';
import {
  ChannelListView,
  ChannelView,
  CreatedChannelView,
  DeletedChannelView,
  DeliveryListView,
  DeliveryView,
  RotatedSecretView,
  TestDeliveryView,
} from './notifications.view';

const RIGHTS =
  'Anyone may own channels for their own jobs’ events (`user`); a lead, its organisation’s (`org`); an admin, ' +
  '`global` ones. A lead sees and manages its organisation’s channels and its members’ own; a channel the caller ' +
  'may not see answers 404.';

@ApiTags('Notifications')
@Controller('api/notifications')
export class NotificationsController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly notifications: NotificationsService,
  ) {}

  @Get('channels')
  @MinLevel('viewer')
  @ApiOperation({ summary: 'List notification channels', description: RIGHTS })
  @ApiOkResponse({ type: ChannelListView })
  async list(@CurrentUser() caller: AuthenticatedUser): Promise<ChannelListView> {
    return { channels: (await this.channels.list(caller)).map(channelView) };
  }

  @Post('channels')
  @MinLevel('viewer')
  @ApiOperation({
    summary: 'Create a notification channel',
    description: `${RIGHTS} A webhook channel's signing secret is in the answer, this once. Webhook and Slack URLs must be https:// and must not resolve to a private, loopback, link-local or metadata address (400 naming \`config.url\`).`,
  })
  @ApiCreatedResponse({ type: CreatedChannelView })
  @ApiErrors('permission_denied')
  async create(@CurrentUser() caller: AuthenticatedUser, @Body() dto: CreateChannelDto): Promise<CreatedChannelView> {
    const { channel, secret } = await this.channels.create(caller, dto);
    return { ...channelView(channel), ...(secret ? { signing_secret: secret } : {}) };
  }

  @Get('channels/:id')
  @MinLevel('viewer')
  @ApiOperation({ summary: 'Get a notification channel', description: RIGHTS })
  @ApiOkResponse({ type: ChannelView })
  @ApiErrors('not_found')
  async get(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<ChannelView> {
    return channelView(await this.channels.get(caller, id));
  }

  @Patch('channels/:id')
  @MinLevel('viewer')
  @ApiOperation({ summary: 'Change a channel (name, config, events, filters, on/off)', description: RIGHTS })
  @ApiOkResponse({ type: ChannelView })
  @ApiErrors('not_found')
  async update(
    @CurrentUser() caller: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Body() dto: UpdateChannelDto,
  ): Promise<ChannelView> {
    return channelView(await this.channels.update(caller, id, dto));
  }

  @Delete('channels/:id')
  @MinLevel('viewer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Delete a channel and its delivery log', description: RIGHTS })
  @ApiOkResponse({ type: DeletedChannelView })
  @ApiErrors('not_found')
  async remove(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<DeletedChannelView> {
    await this.channels.remove(caller, id);
    return { deleted: true, id };
  }

  @Post('channels/:id/rotate-secret')
  @MinLevel('viewer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Give a webhook channel a new signing secret, returned this once', description: RIGHTS })
  @ApiOkResponse({ type: RotatedSecretView })
  @ApiErrors('not_found')
  async rotate(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<RotatedSecretView> {
    return { channel_id: id, signing_secret: await this.channels.rotateSecret(caller, id) };
  }

  @Post('channels/:id/test')
  @MinLevel('viewer')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a test event to a channel now',
    description: `${RIGHTS} One attempt, not retried; the answer is its outcome.`,
  })
  @ApiOkResponse({ type: TestDeliveryView })
  @ApiErrors('not_found')
  async test(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<TestDeliveryView> {
    const d = await this.notifications.test(caller, id);
    return {
      delivery_id: d.id,
      status: d.status,
      status_code: d.last_status_code,
      duration_ms: d.duration_ms,
      error: d.last_error,
    };
  }

  @Get('deliveries')
  @MinLevel('viewer')
  @ApiOperation({ summary: 'The delivery log, newest first', description: RIGHTS })
  @ApiOkResponse({ type: DeliveryListView })
  async deliveries(@CurrentUser() caller: AuthenticatedUser, @Query() q: DeliveriesQuery): Promise<DeliveryListView> {
    const { rows, total } = await this.notifications.list(
      caller,
      { channelId: q.channel_id, status: q.status },
      q.limit ?? 50,
      q.offset ?? 0,
    );
    return { deliveries: rows.map(deliveryView), total };
  }

  @Post('deliveries/:id/redeliver')
  @MinLevel('viewer')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a delivery again now',
    description: `${RIGHTS} The same delivery (same \`webhook-id\`) as a new attempt, not retried; its new state.`,
  })
  @ApiOkResponse({ type: DeliveryView })
  @ApiErrors('not_found')
  async redeliver(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<DeliveryView> {
    return deliveryView(await this.notifications.redeliver(caller, id));
  }
}
