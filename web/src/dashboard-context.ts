import { createContext } from 'preact';
import { useContext, useEffect, useRef } from 'preact/hooks';
import type { Api } from './api';
import type { User } from './api-types';
import type { ServerEvent } from './event-stream';

export type EventListener = (event: ServerEvent) => void;

/** What every view needs: the signed-in caller, the API, the live events and a place to report a failed action. */
export interface DashboardContextValue {
  api: Api;
  me: User;
  /** Names for user ids; filled only for leads and admins (GET /api/users needs lead). */
  users: ReadonlyMap<string, User>;
  subscribe: (listener: EventListener) => () => void;
  /** Bumped when the stream restarted without a replay: lists reload. */
  resyncCount: number;
  reportFailure: (action: string, err: unknown) => void;
}

export const DashboardContext = createContext<DashboardContextValue | null>(null);

export function useDashboard(): DashboardContextValue {
  const value = useContext(DashboardContext);
  if (!value) throw new Error('useDashboard outside the dashboard');
  return value;
}

/** Calls `listener` for every live event while the component is mounted (the latest listener, no resubscribe). */
export function useServerEvents(listener: EventListener): void {
  const { subscribe } = useDashboard();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => subscribe((event) => latest.current(event)), [subscribe]);
}
