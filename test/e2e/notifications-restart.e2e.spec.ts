import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { generateApiKey } from '../../src/auth/api-key.util';
import { http } from '../support/http';
import { spawnApp, SpawnedApp } from '../support/spawn-app';
import { makeTempDir } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { WebhookReceiver } from '../support/webhook-receiver';

const CONCURRENCY = 8;
/** A sender round claims four deliveries per send slot and records them together: at most this many in flight. */
const ROUND = CONCURRENCY * 4;

/**
 * The service killed (SIGKILL) while 1,000 deliveries are pending against a slow receiver, then started again on the
 * same PostgreSQL database: every event is delivered, what was in flight is taken over at once, and no delivery the
 * service had recorded as acknowledged is sent again (only those in flight at the kill may come twice; receivers
 * dedupe them on webhook-id).
 */
describe('notification outbox across a crash (PostgreSQL)', () => {
  const adminKey = generateApiKey();
  const dataDir = makeTempDir('st-notify-restart-');
  const receiver = new WebhookReceiver();
  const secretKey = randomBytes(32).toString('base64');
  let database: TestDatabase;
  let running: SpawnedApp | null = null;

  beforeAll(async () => {
    database = await createTestDatabase();
    await receiver.start();
    receiver.answer = () => ({ status: 200, body: 'ok', delayMs: 40 });
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
    await receiver.stop();
    await database?.drop();
  });

  async function start(): Promise<string> {
    running = spawnApp({
      DATABASE_URL: database.url,
      SIMPLETUNER_DATA_DIR: dataDir,
      PORT: '0',
      SIMPLETUNER_ENTERPRISE_CONFIG: '',
      SIMPLETUNER_ADMIN_API_KEY: adminKey,
      SIMPLETUNER_SECRET_KEY: secretKey,
      SIMPLETUNER_LOG_LEVEL: 'INFO',
      SIMPLETUNER_QUEUE_INTERVAL: '3600',
      SIMPLETUNER_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
      SIMPLETUNER_NOTIFY_INTERVAL: '0.2',
      SIMPLETUNER_NOTIFY_CONCURRENCY: String(CONCURRENCY),
    });
    await running.waitForOutput(/listening on http:\/\/[\d.]+:\d+/, 150_000);
    return /listening on (http:\/\/[\d.]+:\d+)/.exec(running.stdout())![1];
  }

  it('delivers every event after a SIGKILL, re-sending only what was in flight', async () => {
    const url = await start();
    const channel = await http(url, 'POST', '/api/notifications/channels', {
      key: adminKey,
      body: {
        kind: 'webhook',
        name: 'slow',
        owner_scope: 'global',
        config: { url: `${receiver.url}/slow` },
        events: ['job.submitted'],
      },
    });
    expect(channel.status).toBe(201);

    const db = new Client({ connectionString: database.url });
    db.on('error', () => undefined); // the database is dropped at the end, closing this connection
    await db.connect();
    try {
      await db.query(
        `INSERT INTO events (type, job_id, data)
         SELECT 'job_submitted', 'job-' || n, jsonb_build_object('type', 'job_submitted', 'job_id', 'job-' || n, 'n', n)
           FROM generate_series(1, 1000) AS n`,
      );
      await receiver.waitFor((r) => r.length >= 150, 60_000, '150 deliveries before the kill');
      running!.child.kill('SIGKILL');
      await running!.exited;
      const killedAt = Date.now();
      // What the service had recorded as acknowledged when it died.
      const acked = new Set(
        (await db.query<{ id: string }>(`SELECT id FROM notification_deliveries WHERE status = 'succeeded'`)).rows.map(
          (r) => r.id,
        ),
      );
      expect(acked.size).toBeGreaterThan(0);

      await start();
      const restarted = Date.now();
      await receiver.waitFor((r) => new Set(r.map((x) => x.headers['webhook-id'])).size >= 1000, 120_000, 'all 1,000');
      // What the dead sender had in flight was taken over at the first tick, not when its 45 s claims lapsed.
      expect(Date.now() - restarted).toBeLessThan(40_000);
      const afterRestart = receiver.requests.filter((r) => r.at > killedAt).map((r) => String(r.headers['webhook-id']));
      expect(afterRestart.filter((id) => acked.has(id))).toEqual([]);
      const counts = new Map<string, number>();
      for (const r of receiver.requests) {
        const id = String(r.headers['webhook-id']);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const twice = [...counts.values()].filter((n) => n > 1).length;
      expect(twice).toBeLessThanOrEqual(ROUND);
      const received = new Set(receiver.requests.map((r) => (r.json as { data: { n: number } }).data.n));
      expect(received.size).toBe(1000);

      let pending = 1;
      for (let i = 0; i < 100 && pending > 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        pending = (await db.query(`SELECT count(*)::int AS n FROM notification_deliveries WHERE status <> 'succeeded'`))
          .rows[0].n as number;
      }
      const rows = await db.query(
        `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS events FROM notification_deliveries`,
      );
      expect(rows.rows[0]).toEqual({ n: 1000, events: 1000 });
      expect(pending).toBe(0);
    } finally {
      await db.end();
    }
  }, 400_000);
});
