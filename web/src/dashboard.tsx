import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, createApi } from './api';
import { DashboardContext, DashboardContextValue, EventListener } from './dashboard-context';
import { openEventStream, ServerEvent, StreamState } from './event-stream';
import type { Credentials } from './session';
import { atLeast } from './permissions';
import { routeFromHash } from './route';
import type { User, UserList } from './api-types';
import { ConnectionIndicator } from './ui/connection-indicator';
import { Failure, FailureBanner } from './ui/failure-banner';
import { PauseBanner } from './ui/pause-banner';
import { Tabs, TabDef } from './ui/tabs';
import { ActivityView } from './views/activity-view';
import { ApprovalsView } from './views/approvals-view';
import { JobDetailView } from './views/job-detail-view';
import { JobsView } from './views/jobs-view';
import { NewJobView } from './views/new-job-view';
import { NotificationsView } from './views/notifications-view';
import { QueueView } from './views/queue-view';
import { SpendView } from './views/spend-view';
import { WorkersView } from './views/workers-view';

const TABS: Array<TabDef & { minLevel?: User['level'] }> = [
  { id: 'jobs', label: 'Jobs' },
  // Viewers may not submit: they do not see the form at all.
  { id: 'new-job', label: 'New job', minLevel: 'researcher' },
  { id: 'queue', label: 'Queue' },
  { id: 'approvals', label: 'Approvals' },
  { id: 'spend', label: 'Spend' },
  { id: 'notifications', label: 'Notifications' },
  { id: 'workers', label: 'Workers' },
  { id: 'activity', label: 'Activity' },
];
/** Events kept for the Activity tab: enough to see what just happened, bounded for a tab left open for days. */
const ACTIVITY_LIMIT = 100;

const tabsFor = (me: User): TabDef[] => TABS.filter((t) => !t.minLevel || atLeast(me.level, t.minLevel));

interface DashboardProps {
  credentials: Credentials;
  me: User;
  onSignOut: (message?: string) => void;
}

export function Dashboard({ credentials, me, onSignOut }: DashboardProps) {
  const [connection, setConnection] = useState<StreamState>('connecting');
  const [resyncCount, setResyncCount] = useState(0);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [activity, setActivity] = useState<ServerEvent[]>([]);
  const [users, setUsers] = useState<ReadonlyMap<string, User>>(new Map());
  const tabs = useMemo(() => tabsFor(me), [me]);
  const [route, setRoute] = useState(() => routeFromHash(tabs));
  const tab = route.tab;
  const listeners = useRef(new Set<EventListener>());

  const api = useMemo(() => createApi(credentials, (err) => onSignOut(err.message)), [credentials]);

  useEffect(() => {
    const stream = openEventStream(credentials, {
      onEvent(event) {
        for (const listener of listeners.current) listener(event);
        setActivity((list) => [event, ...list].slice(0, ACTIVITY_LIMIT));
      },
      onState: setConnection,
      onResync: () => setResyncCount((n) => n + 1),
      onUnauthorized: (message) => onSignOut(message),
    });
    return () => stream.close();
  }, [credentials]);

  // Names for the owner and requester columns; only leads and admins may list users.
  useEffect(() => {
    if (!atLeast(me.level, 'lead')) return;
    api
      .get<UserList>('/api/users')
      .then((r) => setUsers(new Map(r.users.map((u) => [u.id, u]))))
      .catch(() => undefined); // names are a nicety: ids are shown instead
  }, [api]);

  useEffect(() => {
    const onHash = () => setRoute(routeFromHash(tabs));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const subscribe = useCallback((listener: EventListener) => {
    listeners.current.add(listener);
    return () => void listeners.current.delete(listener);
  }, []);

  const reportFailure = useCallback((action: string, err: unknown) => {
    const apiError = err instanceof ApiError ? err : null;
    setFailure({
      action,
      message: apiError ? apiError.fullMessage : String(err),
      correlationId: apiError?.correlationId ?? null,
      at: Date.now(),
    });
  }, []);

  const context: DashboardContextValue = { api, me, users, subscribe, resyncCount, reportFailure };
  const selectTab = (id: string) => {
    history.replaceState(null, '', `#${id}`);
    setRoute({ tab: id, jobId: null });
  };

  return (
    <DashboardContext.Provider value={context}>
      <header class="topbar">
        <h1>SimpleTuner Cloud</h1>
        <ConnectionIndicator state={connection} />
        <p class="whoami">
          Signed in as <strong>{me.username}</strong> <span class="level">{me.level}</span>
        </p>
        <button type="button" class="secondary" onClick={() => onSignOut()}>
          Sign out
        </button>
      </header>
      <FailureBanner failure={failure} onDismiss={() => setFailure(null)} />
      <PauseBanner />
      <Tabs tabs={tabs} selected={tab} onSelect={selectTab} />
      <main class="panel">
        <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
          {tab === 'jobs' && (route.jobId ? <JobDetailView key={route.jobId} jobId={route.jobId} /> : <JobsView />)}
          {tab === 'new-job' && <NewJobView />}
          {tab === 'queue' && <QueueView />}
          {tab === 'approvals' && <ApprovalsView />}
          {tab === 'spend' && <SpendView />}
          {tab === 'notifications' && <NotificationsView />}
          {tab === 'workers' && <WorkersView />}
          {tab === 'activity' && <ActivityView events={activity} />}
        </div>
      </main>
    </DashboardContext.Provider>
  );
}
