import { createParser } from 'eventsource-parser';
import type { Api } from './api';
import type { ErrorBody, LogStreamError, LogStreamLog } from './api-types';
import { type Attempt, keepConnected, pump } from './sse';

export type LogState = 'connecting' | 'live' | 'reconnecting' | 'complete' | 'unavailable';

export interface LogHandlers {
  onText: (text: string) => void;
  /** `message`: why the log cannot be shown, for `unavailable`. */
  onState: (state: LogState, message?: string) => void;
}

/** Without a byte for this long the connection is taken as dead and resumed. */
const SILENCE_LIMIT_MS = 60_000;

/**
 * A job's log as it grows: GET /api/cloud/jobs/:id/logs/stream, starting with the last `tail` lines. Each `log`
 * message's id is the byte offset after it, so a reconnect after a drop resumes with `Last-Event-ID` without a gap
 * or a repeated line; `end` (the job is over and its log complete) closes it for good. A 4xx answer (no such job, or
 * a service without logs) is final; anything else is retried with backoff.
 */
export function openLogStream(api: Api, jobId: string, tail: number, handlers: LogHandlers): { close(): void } {
  let lastEventId: string | null = null;
  let ended = false;

  const onMessage = (event: string | undefined, data: string, id: string | undefined) => {
    if (ended) return;
    if (event === 'end') {
      ended = true;
      handlers.onState('complete');
    } else if (event === 'error') {
      // The key was revoked or the user lost access: the server closes the stream, and a retry would not help.
      ended = true;
      let body: Partial<LogStreamError> = {};
      try {
        body = JSON.parse(data) as Partial<LogStreamError>;
      } finally {
        handlers.onState('unavailable', body.message ?? 'The log stream ended');
      }
    } else if (event === 'log') {
      const chunk = JSON.parse(data) as LogStreamLog;
      if (id !== undefined) lastEventId = id;
      handlers.onText(chunk.text);
    }
  };
  const parser = createParser({
    onEvent(message) {
      try {
        onMessage(message.event, message.data, message.id);
      } catch {
        // a message this page cannot read: skipped
      }
    },
  });

  const attempt: Attempt = async (signal, connected) => {
    const query = lastEventId === null ? `?tail=${tail}` : '';
    const res = await api.openStream(
      `/api/cloud/jobs/${encodeURIComponent(jobId)}/logs/stream${query}`,
      lastEventId,
      signal,
    );
    if (res.status >= 400 && res.status < 500) {
      const body = (await res.json().catch(() => ({}))) as Partial<ErrorBody>;
      handlers.onState('unavailable', body.message ?? `The log answered ${res.status}`);
      return 'stop';
    }
    if (!res.ok || !res.body) throw new Error(`log stream answered ${res.status}`);
    connected();
    parser.reset();
    handlers.onState('live');
    await pump(res.body, (text) => parser.feed(text), SILENCE_LIMIT_MS);
    // The server closes the stream after `end`: nothing to resume.
    return ended ? 'stop' : undefined;
  };

  handlers.onState('connecting');
  return keepConnected(attempt, () => handlers.onState('reconnecting'));
}
