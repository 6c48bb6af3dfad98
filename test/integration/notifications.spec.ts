import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { AuthenticatedUser } from '../../src/auth';
import { EventsService } from '../../src/events';
import { ChannelsService } from '../../src/notifications/channels.service';
import { afterAttempt } from '../../src/notifications/delivery-schedule';
import type { SendResult } from '../../src/notifications/http-transport';
import { ApiLoad } from '../../src/metrics';
import { BackgroundTaskManager } from '../../src/scheduling';
import { NotificationsService } from '../../src/notifications/notifications.service';
import { NotificationOutbox } from '../../src/notifications/outbox.service';
import { actorFor } from '../support/service-actors';
import { ServiceModule, startServiceModule } from '../support/service-module';
import { WebhookReceiver } from '../support/webhook-receiver';

/** Keeps the event loop busy for `ms` (real work, as a request burst would). */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) Math.sqrt(Math.random());
}

const failure = (over: Partial<SendResult>): SendResult => ({
  ok: false,
  statusCode: 500,
  durationMs: 5,
  error: 'HTTP 500',
  excerpt: null,
  retryable: true,
  retryAfterMs: null,
  ...over,
});

describe('delivery schedule', () => {
  const now = new Date('2026-12-07T00:00:00Z');

  it('retries after 30 s·2ⁿ with jitter, honours Retry-After, and gives up after 8 attempts or on a final 4xx', () => {
    for (const [attempts, base] of [
      [1, 30_000],
      [2, 60_000],
      [5, 480_000],
    ] as const) {
      const next = afterAttempt(failure({}), attempts, now, 30_000);
      const delay = next.nextAttemptAt.getTime() - now.getTime();
      expect(next.status).toBe('pending');
      expect(delay).toBeGreaterThanOrEqual(base * 0.75);
      expect(delay).toBeLessThanOrEqual(base * 1.25);
    }
    const asked = afterAttempt(failure({ statusCode: 429, retryAfterMs: 120_000 }), 1, now, 30_000);
    expect(asked.nextAttemptAt.getTime() - now.getTime()).toBe(120_000);
    expect(afterAttempt(failure({}), 8, now, 30_000).status).toBe('failed');
    expect(afterAttempt(failure({ statusCode: 404, retryable: false }), 1, now, 30_000).status).toBe('failed');
    const ok = afterAttempt({ ...failure({}), ok: true, statusCode: 204, error: null }, 3, now, 30_000);
    expect(ok).toMatchObject({ status: 'succeeded', deliveredAt: now, error: null });
  });
});

/**
 * The outbox at the service level on PostgreSQL: the channel entity matches its migration, an event committed late
 * by an older transaction is not skipped (the same horizon rule as the event stream's replay), and reading the same
 * events again makes no second delivery.
 */
describe('notification outbox (PostgreSQL)', () => {
  let services: ServiceModule;
  let admin: AuthenticatedUser;
  let channelId: string;

  const deliveredEvents = async (): Promise<string[]> =>
    (
      await services.db.query<{ type: string }[]>(
        `SELECT e.data->>'config_name' AS type FROM notification_deliveries d JOIN events e ON e.id = d.event_id
          WHERE d.channel_id = $1 ORDER BY e.tx_id, e.id`,
        [channelId],
      )
    ).map((r) => r.type);
  const event = (name: string) => ({
    type: 'job_submitted' as const,
    jobId: `job-${name}`,
    data: { status: 'pending', provider: 'simulator', config_name: name, cost_estimate: 1, requires_approval: false },
  });

  beforeAll(async () => {
    services = await startServiceModule({
      env: {
        SIMPLETUNER_SECRET_KEY: randomBytes(32).toString('base64'),
        SIMPLETUNER_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
        SIMPLETUNER_NOTIFY_INTERVAL: '3600',
        SIMPLETUNER_QUEUE_INTERVAL: '3600',
      },
    });
    admin = await actorFor(services.module, services.adminKey);
    const { channel } = await services.get(ChannelsService).create(admin, {
      kind: 'webhook',
      name: 'outbox',
      owner_scope: 'global',
      config: { url: 'http://127.0.0.1:9/never' },
      events: ['job.submitted'],
    });
    channelId = channel.id;
  });
  afterAll(async () => {
    await services?.close();
  });

  it('has no schema difference between the channel entity and the migrated database', async () => {
    const log = await services.db.driver.createSchemaBuilder().log();
    expect(log.upQueries.map((q) => q.query).filter((q) => /"notification_/.test(q))).toEqual([]);
  });

  it('waits for an older transaction still open, then expands its event too, in commit order, once', async () => {
    const outbox = services.get(NotificationOutbox);
    await outbox.expand();
    const late = new Client({ connectionString: services.database!.url });
    await late.connect();
    try {
      await late.query('BEGIN');
      await late.query(
        `INSERT INTO events (type, job_id, data) VALUES ('job_submitted', 'job-late', '{"config_name": "late"}')`,
      );
      await services.get(EventsService).publish(event('early'));
      // The later transaction's event is committed, but an older one may still commit before it: nothing yet.
      expect(await outbox.expand()).toMatchObject({ events: 0, deliveries: 0 });
      await late.query('COMMIT');
    } finally {
      await late.end();
    }
    expect(await outbox.expand()).toMatchObject({ events: 2, deliveries: 2 });
    expect(await deliveredEvents()).toEqual(['late', 'early']);

    // Read again from the start (a crash before the cursor moved): the unique key makes no second delivery.
    await services.db.query(`UPDATE notification_cursor SET position = '0:0'`);
    expect(await outbox.expand()).toMatchObject({ deliveries: 0 });
    expect(await deliveredEvents()).toEqual(['late', 'early']);
  });

  /** A webhook channel to a new local receiver, hearing `event`; earlier tests' pending deliveries out of the way. */
  const receiverChannel = async (name: string, event: string) => {
    const receiver = await new WebhookReceiver().start();
    const { channel } = await services.get(ChannelsService).create(admin, {
      kind: 'webhook',
      name,
      owner_scope: 'global',
      config: { url: `${receiver.url}/hook` },
      events: [event],
    });
    await services.db.query(`UPDATE notification_deliveries SET status = 'failed' WHERE status = 'pending'`);
    return { receiver, channel };
  };

  it('yields to a busy API: only events and deliveries older than the longest deferral, the rest once quiet', async () => {
    const { receiver, channel } = await receiverChannel('yield', 'job.completed');
    try {
      const completed = (name: string) =>
        services.get(EventsService).publish({
          type: 'job_status_changed',
          jobId: `job-yield-${name}`,
          data: { status: 'completed', previous_status: 'running', config_name: name },
        });
      for (const name of ['a', 'b', 'c']) await completed(name);
      await services.get(NotificationOutbox).expand();
      // One of them has waited past the 30 s deferral already.
      await services.db.query(
        `UPDATE notification_deliveries SET next_attempt_at = now() - interval '31 seconds'
          WHERE channel_id = $1 AND payload->'data'->>'job_id' = 'job-yield-a'`,
        [channel.id],
      );
      await completed('d');
      const load = services.get(ApiLoad);
      const notifications = services.get(NotificationsService);
      const jobIds = () => receiver.requests.map((r) => r.json.data.job_id as string).sort();
      load.busy(); // starts a fresh sample of the event loop
      spin(300);
      for (let i = 0; i < 25; i++) load.began();
      expect(load.busy()).toBe(true);
      // Busy: the old delivery goes; the new event is not even expanded yet.
      expect(await notifications.processTick()).toEqual({ events: 0, deliveries_created: 0, attempts: 1 });
      expect(jobIds()).toEqual(['job-yield-a']);

      // Quiet: no request in the last second.
      await new Promise((r) => setTimeout(r, 1_100));
      expect(load.busy()).toBe(false);
      expect(await notifications.processTick()).toEqual({ events: 1, deliveries_created: 1, attempts: 3 });
      expect(jobIds()).toEqual(['job-yield-a', 'job-yield-b', 'job-yield-c', 'job-yield-d']);
    } finally {
      await receiver.stop();
    }
  });

  it('takes over at once what a stopped sender had in flight, keeping its own claims', async () => {
    const { receiver, channel } = await receiverChannel('takeover', 'job.failed');
    try {
      for (const name of ['x', 'y'])
        await services.get(EventsService).publish({
          type: 'job_status_changed',
          jobId: `job-takeover-${name}`,
          data: { status: 'failed', previous_status: 'running', config_name: name },
        });
      await services.get(NotificationOutbox).expand();
      // x was in flight at a sender that died (its claim runs another 40 s); y is claimed by this instance's own
      // round, still going.
      const me = services.get(BackgroundTaskManager).instanceId;
      const claim = (job: string, by: string) =>
        services.db.query(
          `UPDATE notification_deliveries SET claimed_by = $3, next_attempt_at = now() + interval '40 seconds'
            WHERE channel_id = $1 AND payload->'data'->>'job_id' = $2`,
          [channel.id, job, by],
        );
      await claim('job-takeover-x', 'dead-host:1:abcdef');
      await claim('job-takeover-y', me);
      await new Promise((r) => setTimeout(r, 1_100)); // no request in the last second: nothing is deferred
      expect(await services.get(NotificationsService).processTick()).toMatchObject({ attempts: 1 });
      expect(receiver.requests.map((r) => r.json.data.job_id)).toEqual(['job-takeover-x']);
      const rows = await services.db.query<{ job: string; status: string; claimed_by: string | null }[]>(
        `SELECT payload->'data'->>'job_id' AS job, status, claimed_by FROM notification_deliveries
          WHERE channel_id = $1 ORDER BY job`,
        [channel.id],
      );
      expect(rows).toEqual([
        { job: 'job-takeover-x', status: 'succeeded', claimed_by: null },
        { job: 'job-takeover-y', status: 'pending', claimed_by: me },
      ]);
    } finally {
      await receiver.stop();
    }
  });
});
