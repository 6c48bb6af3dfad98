import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { USER_LEVELS, UsersService, type UserLevel } from '../auth';
import { AppConfig } from '../config';
import { HttpClientFactory } from '../http';
import { HttpTransport, type SendResult } from './http-transport';
import { MailTransport } from './mail-transport';
import type { NotificationChannel } from './notification-channel.entity';
import { emailMessage, slackMessage, type NotificationPayload } from './notification-messages';

/** Sends one delivery over its channel's kind: a signed webhook, a Slack message or an email. */
@Injectable()
export class NotificationTransports implements OnApplicationShutdown {
  private readonly http: HttpTransport;
  private readonly mail: MailTransport;
  private readonly publicUrl: string;

  constructor(
    config: AppConfig,
    httpClients: HttpClientFactory,
    private readonly users: UsersService,
  ) {
    const env = config.env;
    this.http = new HttpTransport(httpClients, env.SIMPLETUNER_ALLOW_PRIVATE_WEBHOOK_TARGETS, {
      proxy: env.SIMPLETUNER_HTTP_PROXY,
      caFile: env.SIMPLETUNER_HTTP_CA_FILE,
    });
    this.mail = new MailTransport(env.SIMPLETUNER_SMTP_URL, env.SIMPLETUNER_SMTP_FROM);
    this.publicUrl = env.SIMPLETUNER_PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}`;
  }

  async send(
    channel: NotificationChannel,
    secret: string | null,
    delivery: { id: string; payload: NotificationPayload },
    now: Date,
  ): Promise<SendResult> {
    const url = channel.config.url ?? '';
    if (channel.kind === 'webhook') return this.http.sendWebhook(url, secret ?? '', delivery.id, delivery.payload, now);
    if (channel.kind === 'slack') return this.http.sendSlack(url, slackMessage(this.publicUrl, delivery.payload));
    const to = await this.recipients(channel, delivery.payload);
    return this.mail.send({ to, ...emailMessage(this.publicUrl, delivery.payload) });
  }

  /**
   * An email channel's addresses: the listed ones, `owner` (the job's submitter; for a test, the channel's creator)
   * and `approvers` (for an approval request: who may decide it, in the job's organisation).
   */
  private async recipients(channel: NotificationChannel, p: NotificationPayload): Promise<string[]> {
    const out = new Set<string>();
    const d = p.data;
    const userId = typeof d.user_id === 'string' ? d.user_id : p.type === 'test' ? channel.createdBy : null;
    for (const r of channel.config.recipients ?? []) {
      if (r === 'owner') {
        const email = userId ? await this.users.emailOf(userId) : null;
        if (email) out.add(email);
      } else if (r === 'approvers') {
        if (p.type !== 'approval.required' || typeof d.org_id !== 'string') continue;
        const asked = d.required_approver_level as UserLevel;
        const level = USER_LEVELS.includes(asked) && asked !== 'viewer' ? asked : 'lead';
        for (const email of await this.users.approverEmails(d.org_id, level, userId)) out.add(email);
      } else out.add(r);
    }
    return [...out];
  }

  async onApplicationShutdown(): Promise<void> {
    this.mail.close();
    await this.http.close();
  }
}
