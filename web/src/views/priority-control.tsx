import { useState } from 'preact/hooks';
import { useDashboard } from '../dashboard-context';
import type { QueueEntry } from '../api-types';

interface PriorityControlProps {
  entry: QueueEntry;
  name: string;
  onChanged: () => void;
}

/** Sets (0–50) or clears a waiting job's priority override; leads and admins only (the API checks too). */
export function PriorityControl({ entry, name, onChanged }: PriorityControlProps) {
  const { api, reportFailure } = useDashboard();
  const [value, setValue] = useState(String(entry.priority_override ?? entry.effective_priority));
  const [busy, setBusy] = useState(false);
  const send = async (priority: number | string | null) => {
    setBusy(true);
    try {
      await api.post(`/api/queue/${entry.job_id}/priority`, { priority });
      onChanged();
    } catch (err) {
      reportFailure(`Set priority of ${name}`, err);
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: Event) => {
    e.preventDefault();
    // Anything but a whole number goes as typed, so the API refuses it with its own message.
    const n = Number(value);
    void send(value.trim() !== '' && Number.isInteger(n) ? n : value);
  };
  const inputId = `priority-${entry.job_id}`;
  return (
    <form class="priority" onSubmit={submit}>
      <label for={inputId} class="sr-only">
        Priority for {name}
      </label>
      <input
        id={inputId}
        type="number"
        inputMode="numeric"
        min={0}
        max={50}
        step={1}
        value={value}
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={busy}>
        Set priority<span class="sr-only"> for {name}</span>
      </button>
      {entry.priority_override !== null && (
        <button type="button" class="secondary" disabled={busy} onClick={() => void send(null)}>
          Clear override<span class="sr-only"> for {name}</span>
        </button>
      )}
    </form>
  );
}
