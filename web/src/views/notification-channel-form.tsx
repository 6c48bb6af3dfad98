import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import type { CreatedChannel } from '../api-types';
import { useDashboard } from '../dashboard-context';
import { atLeast } from '../permissions';
import { Field } from '../ui/field';

type Kind = 'webhook' | 'slack' | 'email';
const DEFAULT_EVENTS = 'job.completed, job.failed';

/** The form that makes a channel; a webhook's signing secret is shown once, by the caller. */
export function ChannelForm({ onCreated }: { onCreated: (c: CreatedChannel) => void }) {
  const { api, me } = useDashboard();
  const [kind, setKind] = useState<Kind>('webhook');
  const [name, setName] = useState('');
  const [target, setTarget] = useState('');
  const [events, setEvents] = useState(DEFAULT_EVENTS);
  const [scope, setScope] = useState('user');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const list = target
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    try {
      const created = await api.post<CreatedChannel>('/api/notifications/channels', {
        kind,
        name,
        owner_scope: scope,
        config: kind === 'email' ? { recipients: list } : { url: target.trim() },
        events: events
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      });
      setName('');
      setTarget('');
      onCreated(created);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card" aria-label="New channel" onSubmit={(e) => void submit(e)}>
      <h3>New channel</h3>
      <Field id="channel-kind" label="Kind">
        <select id="channel-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as Kind)}>
          <option value="webhook">Webhook (signed)</option>
          <option value="slack">Slack</option>
          <option value="email">Email</option>
        </select>
      </Field>
      <Field id="channel-name" label="Name">
        <input id="channel-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field
        id="channel-target"
        label={kind === 'email' ? 'Recipients' : 'URL'}
        hint={kind === 'email' ? 'Addresses, or owner and approvers, separated by commas' : 'An https:// URL'}
      >
        <input id="channel-target" required value={target} onInput={(e) => setTarget(e.currentTarget.value)} />
      </Field>
      <Field id="channel-events" label="Events" hint="Event types separated by commas, e.g. job.completed">
        <input id="channel-events" required value={events} onInput={(e) => setEvents(e.currentTarget.value)} />
      </Field>
      <Field id="channel-scope" label="Whose events">
        <select id="channel-scope" value={scope} onChange={(e) => setScope(e.currentTarget.value)}>
          <option value="user">My jobs</option>
          {atLeast(me.level, 'lead') && <option value="org">My organisation</option>}
          {me.level === 'admin' && <option value="global">Everyone</option>}
        </select>
      </Field>
      {error && (
        <p role="alert" class="field-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        Create channel
      </button>
    </form>
  );
}
