import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { forEachLimit } from '../common/concurrency';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { ApiLoad } from '../metrics';
import { BackgroundTaskManager } from '../scheduling';
import { ChannelsRepository } from './channels.repository';
import { ChannelsService } from './channels.service';
import { AttemptRecord, DeliveriesRepository, DeliveryRow } from './deliveries.repository';
import { afterAttempt, DISABLE_AFTER_FAILURES } from './delivery-schedule';
import type { SendResult } from './http-transport';
import type { NotificationChannel } from './notification-channel.entity';
import { NotificationTransports } from './notification-transports';
import { NotificationsMetrics } from './notifications.metrics';
import { TARGET_TIMEOUT_MS } from './target-guard';

const log = getLogger('simpletuner.cloud.notifications');

/** A round claims this many deliveries per concurrent send: fewer statements per delivery. */
const CLAIMS_PER_SLOT = 4;
/**
 * A claimed delivery stays with its sender this long: past the longest round (each slot's sends one after another),
 * so no other sender takes it while it is in flight, and short enough that one whose sender died is sent again soon.
 */
const CLAIM_LEASE_MS = CLAIMS_PER_SLOT * TARGET_TIMEOUT_MS + 5_000;

/** Sends deliveries: the due ones with bounded concurrency and retries, or one now (a test, a redelivery). */
@Injectable()
export class NotificationSender {
  private readonly concurrency: number;
  private readonly baseMs: number;
  private readonly maxDeferMs: number;

  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly channelRows: ChannelsRepository,
    private readonly channels: ChannelsService,
    private readonly transports: NotificationTransports,
    private readonly metrics: NotificationsMetrics,
    private readonly clock: Clock,
    private readonly load: ApiLoad,
    private readonly tasks: BackgroundTaskManager,
    config: AppConfig,
  ) {
    this.concurrency = config.env.SIMPLETUNER_NOTIFY_CONCURRENCY;
    this.baseMs = config.env.SIMPLETUNER_NOTIFY_RETRY_BASE_SECONDS * 1000;
    this.maxDeferMs = config.env.SIMPLETUNER_NOTIFY_MAX_DEFER_SECONDS * 1000;
  }

  /**
   * While this instance's API is under load, notification work yields to it: only events and deliveries at least
   * SIMPLETUNER_NOTIFY_MAX_DEFER_SECONDS old are handled, so a burst of requests is not slowed by the deliveries it
   * causes and none waits more than that beyond its time. The time before which work is taken then; null when the
   * API is not busy (everything due is taken).
   */
  yieldingBefore(): Date | null {
    if (this.maxDeferMs === 0 || !this.load.busy()) return null;
    return new Date(this.clock.now().getTime() - this.maxDeferMs);
  }

  /**
   * One round: claims up to 4 × `concurrency` deliveries of active channels due now (or by `dueBy`), attempts each,
   * and records the round's outcomes in one statement; how many were attempted.
   */
  async sendDueRound(dueBy: Date | null = this.yieldingBefore()): Promise<number> {
    const now = this.clock.now();
    const lease = new Date(now.getTime() + CLAIM_LEASE_MS);
    const claimed = await this.deliveries.claimDue(
      dueBy ?? now,
      lease,
      this.concurrency * CLAIMS_PER_SLOT,
      this.tasks.instanceId,
    );
    if (claimed.length === 0) return 0;
    const channels = new Map(
      (await this.channelRows.findMany([...new Set(claimed.map((d) => d.channel_id))])).map((c) => [c.id, c]),
    );
    const done: { id: string; record: AttemptRecord; channel: NotificationChannel; result: SendResult }[] = [];
    await forEachLimit(claimed, this.concurrency, async (delivery) => {
      const channel = channels.get(delivery.channel_id);
      if (!channel) return;
      const result = await this.send(channel, delivery);
      const record = afterAttempt(result, delivery.attempts + 1, this.clock.now(), this.baseMs);
      done.push({ id: delivery.id, record, channel, result });
    });
    await this.deliveries.recordAttempts(done);
    const failing = new Map<string, NotificationChannel>();
    for (const d of done) {
      this.observe(d.channel, d.record, d.result);
      if (d.record.status === 'failed') failing.set(d.channel.id, d.channel);
    }
    for (const channel of failing.values()) await this.disableIfFailing(channel);
    return claimed.length;
  }

  /**
   * Takes over what an earlier sender left in flight (it stopped, or this instance took the outbox from it): its
   * claims are due again now rather than when they lapse. Receivers may then see those deliveries twice.
   */
  async takeOver(): Promise<number> {
    const released = await this.deliveries.releaseClaimsOfOthers(this.tasks.instanceId);
    if (released > 0) log.info(`Took over ${released} deliveries another sender had in flight`, { released });
    return released;
  }

  /** Sends a delivery once, now, and records the attempt; the outcome is final (a test, a redelivery asked for). */
  async attempt(channel: NotificationChannel, delivery: DeliveryRow): Promise<DeliveryRow> {
    const result = await this.send(channel, delivery);
    const record = afterAttempt(result, Number.MAX_SAFE_INTEGER, this.clock.now(), this.baseMs);
    const saved = (await this.deliveries.recordAttempt(delivery.id, record)) ?? delivery;
    this.observe(channel, record, result);
    return saved;
  }

  private async send(channel: NotificationChannel, delivery: DeliveryRow): Promise<SendResult> {
    try {
      // Inside the try: a secret sealed with a key this instance no longer has fails this attempt, not the round.
      return await this.transports.send(channel, this.channels.secretOf(channel), delivery, this.clock.now());
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      return { ok: false, statusCode: null, durationMs: 0, error, excerpt: null, retryable: true, retryAfterMs: null };
    }
  }

  private observe(channel: NotificationChannel, record: AttemptRecord, result: SendResult): void {
    this.metrics.delivered(channel.kind, record.status === 'pending' ? 'retry' : record.status, result.durationMs);
    if (record.status === 'failed')
      log.info(`A delivery to channel ${channel.name} failed: ${result.error}`, {
        channel_id: channel.id,
        status_code: result.statusCode,
      });
  }

  private async disableIfFailing(channel: NotificationChannel): Promise<void> {
    if (await this.deliveries.lastAllFailed(channel.id, DISABLE_AFTER_FAILURES))
      await this.channels.disableFailing(channel, `The last ${DISABLE_AFTER_FAILURES} deliveries failed`);
  }
}
