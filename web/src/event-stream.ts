import { createParser } from 'eventsource-parser';
import type { ErrorBody, StreamEventData } from './api-types';
import { authHeaders, cookieMode, type Credentials } from './session';
import { type Attempt, keepConnected, pump } from './sse';

/**
 * One message of GET /api/events. `data` is the event's flat JSON payload; an enterprise module may publish types
 * the API does not document, so read a field after checking the type or that the field is there.
 */
export interface ServerEvent {
  id: string;
  type: string;
  data: StreamEventData;
  receivedAt: number;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting';

export interface StreamHandlers {
  onEvent: (event: ServerEvent) => void;
  onState: (state: StreamState) => void;
  /** The stream (re)started without a replay: whatever the page holds may have missed events. */
  onResync: () => void;
  onUnauthorized: (message: string) => void;
}

/** The server sends a heartbeat comment every 15 s by default; silence well past that means a dead connection. */
const SILENCE_LIMIT_MS = 45_000;

/**
 * GET /api/events read with fetch rather than EventSource, which cannot send headers: the key stays in a header
 * (a single sign-on session rides on its cookie).
 * After a drop it reconnects with backoff and `Last-Event-ID`, so the server replays what was published meanwhile.
 */
export function openEventStream(cred: Credentials, handlers: StreamHandlers): { close(): void } {
  let lastEventId: string | null = null;

  const parser = createParser({
    onEvent(message) {
      if (message.id !== undefined) lastEventId = message.id;
      const type = message.event ?? 'message';
      if (type === 'reset') {
        // Our Last-Event-ID is older than what the server keeps: it replays all it has; the lists reload.
        handlers.onResync();
        return;
      }
      let data: ServerEvent['data'];
      try {
        data = JSON.parse(message.data) as ServerEvent['data'];
      } catch {
        return;
      }
      handlers.onEvent({ id: message.id ?? '', type, data, receivedAt: Date.now() });
    },
  });

  const attempt: Attempt = async (signal, connected) => {
    const headers: Record<string, string> = { ...authHeaders(cred), Accept: 'text/event-stream' };
    const resuming = lastEventId !== null;
    if (resuming) headers['Last-Event-ID'] = lastEventId as string;
    const res = await fetch('/api/events', { headers, signal, cache: 'no-store', credentials: cookieMode(cred) });
    if (res.status === 401) {
      const body = (await res.json().catch(() => ({}))) as Partial<ErrorBody>;
      handlers.onUnauthorized(body.message ?? 'The API key is no longer valid');
      return 'stop';
    }
    if (!res.ok || !res.body) throw new Error(`event stream answered ${res.status}`);
    connected();
    // A fresh stream says where it starts: a drop before the first event still resumes without a gap.
    const startsAt = res.headers.get('X-Last-Event-ID');
    if (!resuming && startsAt) lastEventId = startsAt;
    parser.reset();
    handlers.onState('live');
    if (!resuming) handlers.onResync();
    await pump(res.body, (text) => parser.feed(text), SILENCE_LIMIT_MS);
  };

  handlers.onState('connecting');
  return keepConnected(attempt, () => handlers.onState('reconnecting'));
}
