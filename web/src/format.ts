import type { User, WaitReason } from './api-types';

export function money(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const n = Number(value);
  if (!Number.isFinite(n)) return '—';
  return n > 0 && n < 0.01 ? '< $0.01' : `$${n.toFixed(2)}`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds > 0 && seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  // Seconds matter for a short wait, not for a long one.
  if (m < 10 && s % 60 !== 0) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h} h` : `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "3 min ago" / "in 5 h": for times close to now; the exact time goes in a tooltip. */
export function relative(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const diff = Math.round((new Date(iso).getTime() - now) / 1000);
  const text = duration(Math.abs(diff))
    .replace(/ \d+ s$/, '')
    .replace(/ 0+ min$/, '');
  if (Math.abs(diff) < 5) return 'just now';
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Why a job waits, in words an operator understands at a glance. */
export function waitReason(reason: WaitReason | null, status: string): string {
  switch (reason) {
    case 'user_limit':
      return 'Owner is at the per-user limit';
    case 'org_limit':
      return 'Organisation is at its limit';
    case 'global_limit':
      return 'Every slot is in use (global limit)';
    case 'awaiting_approval':
      return 'Waiting for approval';
    case 'backoff':
      return 'Retrying after a provider error';
    case 'quota_limit':
      return 'A concurrent-jobs quota is full';
    case 'budget_exhausted':
      return 'The budget of a cost quota is spent';
    case 'paused':
      return 'Dispatch is paused';
    case 'scheduled':
      return 'Scheduled: waits for its start time';
    default:
      return status === 'pending' ? 'Ready: dispatched at the next free slot' : '—';
  }
}

export function userName(id: string | null | undefined, users: ReadonlyMap<string, User>, meId: string): string {
  if (!id) return '—';
  if (id === meId) return 'you';
  return users.get(id)?.username ?? `user ${shortId(id)}`;
}

/** A file size: "812 B", "4.1 kB", "52.4 MB" (decimal units, as browsers and file managers show them). */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB'];
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
