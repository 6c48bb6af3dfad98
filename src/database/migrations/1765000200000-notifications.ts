import { MigrationInterface, QueryRunner } from 'typeorm';

export class Notifications1765000200000 implements MigrationInterface {
  name = 'Notifications1765000200000';

  async up(q: QueryRunner): Promise<void> {
    // Where notifications go. owner_scope user: the user's own jobs' events (user_id set); org: the org's events
    // (org_id set); global: every event. The webhook signing secret is sealed (AES-GCM) with its key id beside it.
    await q.query(`
      CREATE TABLE notification_channels (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind IN ('webhook', 'slack', 'email')),
        name text NOT NULL,
        owner_scope text NOT NULL CHECK (owner_scope IN ('user', 'org', 'global')),
        org_id uuid REFERENCES orgs(id) ON DELETE CASCADE,
        user_id uuid REFERENCES users(id) ON DELETE CASCADE,
        config jsonb NOT NULL DEFAULT '{}'::jsonb,
        events jsonb NOT NULL DEFAULT '[]'::jsonb,
        filters jsonb NOT NULL DEFAULT '{}'::jsonb,
        secret_sealed text,
        secret_key_id text,
        is_active boolean NOT NULL DEFAULT true,
        disabled_reason text,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT notification_channels_owner_check CHECK (
          (owner_scope = 'user' AND user_id IS NOT NULL) OR
          (owner_scope = 'org' AND org_id IS NOT NULL AND user_id IS NULL) OR
          (owner_scope = 'global' AND org_id IS NULL AND user_id IS NULL))
      )`);
    // One row per (event, channel): the outbox inserts with ON CONFLICT DO NOTHING, so a re-read event never makes a
    // second delivery. The id is the webhook-id receivers dedupe on. event_id is null for a channel's test event.
    await q.query(`
      CREATE TABLE notification_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        channel_id uuid NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
        event_id bigint,
        type text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error text,
        duration_ms integer,
        response_excerpt text,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        CONSTRAINT notification_deliveries_event_channel_key UNIQUE (event_id, channel_id)
      )`);
    await this.deliveryLog(q);
  }

  /** Indexes of the deliveries, their attempts, and the outbox cursor. */
  private async deliveryLog(q: QueryRunner): Promise<void> {
    // The sender's claim reads only due pending rows.
    await q.query(
      `CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX notification_deliveries_channel_idx ON notification_deliveries (channel_id, created_at)`,
    );
    // Every attempt of a delivery, as the delivery log shows it.
    await q.query(`
      CREATE TABLE notification_attempts (
        id bigserial PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES notification_deliveries(id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        status_code integer,
        duration_ms integer NOT NULL,
        error text,
        response_excerpt text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX notification_attempts_delivery_idx ON notification_attempts (delivery_id, attempt)`);
    // The outbox's place in the event log (commit order: transaction id, then event id); one row, locked while a
    // batch of events is expanded, so two instances never expand the same batch at once. It starts after the newest
    // event at install time: no channel can hear anything older.
    await q.query(`
      CREATE TABLE notification_cursor (
        id integer PRIMARY KEY CHECK (id = 1),
        position text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO notification_cursor (id, position)
      SELECT 1, COALESCE((SELECT tx_id::text || ':' || id::text FROM events ORDER BY tx_id DESC, id DESC LIMIT 1), '0:0')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE notification_cursor`);
    await q.query(`DROP TABLE notification_attempts`);
    await q.query(`DROP TABLE notification_deliveries`);
    await q.query(`DROP TABLE notification_channels`);
  }
}
