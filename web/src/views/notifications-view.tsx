import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import type { Channel, ChannelList, CreatedChannel, DeliveryList, RotatedSecret, TestDelivery } from '../api-types';
import { useDashboard } from '../dashboard-context';
import { dateTime } from '../format';
import { useResource } from '../hooks';
import { ListState } from '../ui/list-state';
import { ChannelForm } from './notification-channel-form';

/** Webhook, Slack and email channels: make, test, switch off, rotate; and the recent deliveries, with Redeliver. */
export function NotificationsView() {
  const { api } = useDashboard();
  const channels = useResource(() => api.get<ChannelList>('/api/notifications/channels'), []);
  const deliveries = useResource(() => api.get<DeliveryList>('/api/notifications/deliveries?limit=50'), []);
  const [notice, setNotice] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);

  const act = async (what: string, call: () => Promise<string>) => {
    try {
      setNotice(`${what}: ${await call()}`);
    } catch (err) {
      setNotice(`${what} failed: ${err instanceof ApiError ? err.message : String(err)}`);
    }
    channels.reload();
    deliveries.reload();
  };
  const created = (c: CreatedChannel) => {
    setSecret(c.signing_secret ?? null);
    setNotice(`Channel ${c.name} created`);
    channels.reload();
  };
  const names = new Map((channels.data?.channels ?? []).map((c) => [c.id, c.name]));

  return (
    <section aria-labelledby="notifications-heading">
      <div class="view-head">
        <h2 id="notifications-heading">Notifications</h2>
      </div>
      <p class="view-help">
        Signed webhooks, Slack messages and emails sent as events happen, retried until delivered.
      </p>
      {notice && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      {secret && (
        <p class="notice" aria-label="Signing secret">
          Signing secret (shown once, keep it to verify deliveries): <code>{secret}</code>
        </p>
      )}
      <ChannelForm onCreated={created} />
      <ListState resource={channels} what="channels" isEmpty={(d) => d.channels.length === 0} empty="No channels yet.">
        {(d) => <ChannelTable channels={d.channels} act={act} onSecret={setSecret} />}
      </ListState>
      <h3 id="deliveries-heading">Recent deliveries</h3>
      <ListState
        resource={deliveries}
        what="deliveries"
        isEmpty={(d) => d.deliveries.length === 0}
        empty="Nothing delivered yet."
      >
        {(d) => (
          <table class="data" aria-labelledby="deliveries-heading">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Channel</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col" aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {d.deliveries.map((x) => (
                <tr key={x.id} aria-label={`Delivery ${x.id}`}>
                  <td>{dateTime(x.created_at)}</td>
                  <td>{names.get(x.channel_id) ?? x.channel_id}</td>
                  <td>{x.type}</td>
                  <td>{x.status}</td>
                  <td>{x.attempts}</td>
                  <td>{x.last_error ?? (x.last_status_code === null ? '—' : String(x.last_status_code))}</td>
                  <td>
                    <button
                      type="button"
                      class="secondary small"
                      onClick={() =>
                        void act('Redeliver', async () => {
                          const r = await api.post<{ status: string }>(
                            `/api/notifications/deliveries/${x.id}/redeliver`,
                          );
                          return r.status;
                        })
                      }
                    >
                      Redeliver
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListState>
    </section>
  );
}

interface ChannelTableProps {
  channels: Channel[];
  act: (what: string, call: () => Promise<string>) => Promise<void>;
  onSecret: (s: string) => void;
}

function ChannelTable({ channels, act, onSecret }: ChannelTableProps) {
  const { api } = useDashboard();
  const base = (c: Channel) => `/api/notifications/channels/${c.id}`;
  const test = (c: Channel) =>
    act(`Test of ${c.name}`, async () => {
      const r = await api.post<TestDelivery>(`${base(c)}/test`);
      return `${r.status}${r.status_code === null ? '' : ` (${r.status_code})`}${r.error ? `: ${r.error}` : ''}`;
    });
  const toggle = (c: Channel) =>
    act(c.is_active ? `Disable ${c.name}` : `Enable ${c.name}`, async () => {
      const r = await api.patch<Channel>(base(c), { is_active: !c.is_active });
      return r.is_active ? 'enabled' : 'disabled';
    });
  const rotate = (c: Channel) =>
    act(`New secret for ${c.name}`, async () => {
      onSecret((await api.post<RotatedSecret>(`${base(c)}/rotate-secret`)).signing_secret);
      return 'shown below the heading, once';
    });
  return (
    <table class="data" aria-label="Notification channels">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Kind</th>
          <th scope="col">Target</th>
          <th scope="col">Events</th>
          <th scope="col">State</th>
          <th scope="col" aria-label="Actions" />
        </tr>
      </thead>
      <tbody>
        {channels.map((c) => (
          <tr key={c.id} aria-label={`Channel ${c.name}`}>
            <td>{c.name}</td>
            <td>{c.kind}</td>
            <td>{c.config.url ?? (c.config.recipients ?? []).join(', ')}</td>
            <td>{c.events.join(', ')}</td>
            <td>{c.is_active ? 'Active' : `Disabled${c.disabled_reason ? `: ${c.disabled_reason}` : ''}`}</td>
            <td>
              <button type="button" class="secondary small" onClick={() => void test(c)}>
                Test
              </button>{' '}
              <button type="button" class="secondary small" onClick={() => void toggle(c)}>
                {c.is_active ? 'Disable' : 'Enable'}
              </button>{' '}
              {c.kind === 'webhook' && (
                <button type="button" class="secondary small" onClick={() => void rotate(c)}>
                  Rotate secret
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
