import { Inject, Injectable } from '@nestjs/common';
import { AccessPolicy, type AuthenticatedUser } from '../auth';
import { AUDIT_RECORDER, AuditRecorder } from '../common/audit';
import { NotFoundError, PermissionDeniedError, ValidationError } from '../common/errors';
import { generateWebhookSecret } from '../common/standard-webhooks';
import { AppConfig } from '../config';
import { Transactional } from '../database/transactional';
import { getLogger } from '../logging';
import { SecretBox } from '../secrets';
import { channelView } from './channel-views';
import { ChannelsRepository } from './channels.repository';
import type { ChannelConfig, NotificationChannel } from './notification-channel.entity';
import type { ChannelConfigDto, CreateChannelDto, UpdateChannelDto } from './notifications.dto';
import { targetRefusal } from './target-guard';

const log = getLogger('simpletuner.cloud.notifications');

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ROLES = new Set(['owner', 'approvers']);

/** Notification channels: who may own which, their validation and secrets, and the audit of every change. */
@Injectable()
export class ChannelsService {
  constructor(
    private readonly repo: ChannelsRepository,
    private readonly access: AccessPolicy,
    private readonly box: SecretBox,
    private readonly config: AppConfig,
    @Inject(AUDIT_RECORDER) private readonly audit: AuditRecorder,
  ) {}

  /** Every channel for an admin; a lead's organisation's; anyone else's own. */
  list(caller: AuthenticatedUser): Promise<NotificationChannel[]> {
    if (caller.level === 'admin') return this.repo.list({});
    return this.repo.list(caller.level === 'lead' ? { orgId: caller.orgId } : { userId: caller.id });
  }

  /** A channel the caller may see, else 404. */
  async get(caller: AuthenticatedUser, id: string): Promise<NotificationChannel> {
    const channel = await this.repo.find(id);
    if (!channel || !this.access.canSeeChannel(caller, channel)) throw new NotFoundError(`Channel ${id} not found`);
    return channel;
  }

  /** Creates a channel; a webhook channel's signing secret comes back this once. */
  @Transactional()
  async create(
    caller: AuthenticatedUser,
    dto: CreateChannelDto,
  ): Promise<{ channel: NotificationChannel; secret: string | null }> {
    const scope = dto.owner_scope ?? 'user';
    const orgId = scope === 'global' ? null : scope === 'org' ? (dto.org_id ?? caller.orgId) : caller.orgId;
    const refusal = this.access.channelScopeRefusal(caller, scope, orgId);
    if (refusal) throw new PermissionDeniedError(refusal);
    const config = await this.checkConfig(dto.kind, dto.config);
    const secret = dto.kind === 'webhook' ? generateWebhookSecret() : null;
    const sealed = secret ? this.seal(secret) : null;
    const channel = await this.repo.save({
      kind: dto.kind,
      name: dto.name,
      ownerScope: scope,
      orgId,
      userId: scope === 'user' ? caller.id : null,
      config,
      events: [...new Set(dto.events)],
      filters: { ...dto.filters },
      secretSealed: sealed?.sealed ?? null,
      secretKeyId: sealed?.keyId ?? null,
      isActive: dto.is_active ?? true,
      createdBy: caller.id,
    });
    await this.record(caller, 'notification_channel.create', channel, undefined, channelView(channel));
    log.info('Notification channel created', { channel_id: channel.id, kind: channel.kind, user_id: caller.id });
    return { channel, secret };
  }

  @Transactional()
  async update(caller: AuthenticatedUser, id: string, dto: UpdateChannelDto): Promise<NotificationChannel> {
    const channel = await this.get(caller, id);
    const before = channelView(channel);
    if (dto.config !== undefined) channel.config = await this.checkConfig(channel.kind, dto.config);
    if (dto.name !== undefined) channel.name = dto.name;
    if (dto.events !== undefined) channel.events = [...new Set(dto.events)];
    if (dto.filters !== undefined) channel.filters = { ...dto.filters };
    if (dto.is_active !== undefined) {
      channel.isActive = dto.is_active;
      channel.disabledReason = null;
    }
    const saved = await this.repo.save(channel);
    await this.record(caller, 'notification_channel.update', saved, before, channelView(saved));
    return saved;
  }

  @Transactional()
  async remove(caller: AuthenticatedUser, id: string): Promise<void> {
    const channel = await this.get(caller, id);
    await this.repo.remove(id);
    await this.record(caller, 'notification_channel.delete', channel, channelView(channel), undefined);
  }

  /** A new signing secret for a webhook channel, returned this once; deliveries are signed with it from now on. */
  @Transactional()
  async rotateSecret(caller: AuthenticatedUser, id: string): Promise<string> {
    const channel = await this.get(caller, id);
    if (channel.kind !== 'webhook') throw new ValidationError('Only webhook channels have a signing secret');
    const secret = generateWebhookSecret();
    const sealed = this.seal(secret);
    channel.secretSealed = sealed.sealed;
    channel.secretKeyId = sealed.keyId;
    await this.repo.save(channel);
    await this.record(caller, 'notification_channel.rotate_secret', channel, undefined, undefined);
    return secret;
  }

  /** The channel's signing secret in clear (for signing only). */
  secretOf(channel: NotificationChannel): string | null {
    if (!channel.secretSealed || !channel.secretKeyId) return null;
    return this.box.open({ sealed: channel.secretSealed, keyId: channel.secretKeyId });
  }

  /** Switches a channel off after its last deliveries all failed, with a `channel_disabled` audit entry. */
  @Transactional()
  async disableFailing(channel: NotificationChannel, reason: string): Promise<boolean> {
    if (!(await this.repo.disable(channel.id, reason))) return false;
    await this.audit.record({
      actor: null,
      action: 'notification_channel.channel_disabled',
      targetType: 'notification_channel',
      targetId: channel.id,
      orgId: channel.orgId,
      before: { is_active: true },
      after: { is_active: false, disabled_reason: reason },
    });
    log.warning(`Notification channel ${channel.name} disabled: ${reason}`, { channel_id: channel.id });
    return true;
  }

  private seal(secret: string) {
    if (!this.box.canSeal)
      throw new ValidationError('Signing secrets cannot be stored: set SIMPLETUNER_SECRET_KEY', {
        kind: 'webhook channels need SIMPLETUNER_SECRET_KEY on PostgreSQL',
      });
    return this.box.seal(secret);
  }

  /** The config a kind needs: a reachable https URL, or recipients that are addresses or roles. */
  private async checkConfig(kind: NotificationChannel['kind'], dto: ChannelConfigDto): Promise<ChannelConfig> {
    if (kind === 'email') {
      const recipients = dto.recipients ?? [];
      const bad = recipients.find((r) => !ROLES.has(r) && !EMAIL.test(r));
      if (recipients.length === 0 || bad !== undefined)
        throw new ValidationError('config.recipients: give email addresses or the roles owner and approvers', {
          'config.recipients': bad === undefined ? 'must not be empty' : `${bad} is neither an address nor a role`,
        });
      if (!this.config.env.SIMPLETUNER_SMTP_URL)
        throw new ValidationError('Email channels need SIMPLETUNER_SMTP_URL', {
          kind: 'SIMPLETUNER_SMTP_URL is not set',
        });
      return { recipients: [...new Set(recipients)] };
    }
    const url = dto.url ?? '';
    const refusal = url
      ? await targetRefusal(url, this.config.env.SIMPLETUNER_ALLOW_PRIVATE_WEBHOOK_TARGETS)
      : 'is required';
    if (refusal) throw new ValidationError(`config.url ${refusal}`, { 'config.url': refusal });
    return { url };
  }

  private record(
    caller: AuthenticatedUser,
    action: string,
    channel: NotificationChannel,
    before: unknown,
    after: unknown,
  ): Promise<void> {
    return this.audit.record({
      actor: caller,
      action,
      targetType: 'notification_channel',
      targetId: channel.id,
      orgId: channel.orgId,
      before,
      after,
    });
  }
}
