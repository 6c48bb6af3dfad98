import type { ServerResponse } from 'node:http';
import type { AuthenticatedUser } from '../auth';
import { getLogger } from '../logging';
import type { EventHub, EventSink } from './event-hub';
import type { AuthorityBound, StreamAuthority } from './stream-authority';
import { canSee, matchesFilter, StreamFilter } from './event-visibility';
import type { EventsRepository } from './events.repository';
import { comparePositions, EventPosition, LoggedEvent, RESET_EVENT } from './events.types';

const log = getLogger('simpletuner.cloud.events');
const REPLAY_PAGE = 500;
/** Bytes that may wait for a client that does not read; past this it is dropped and reconnects with its id. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-store, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

/** `id:`/`event:`/`data:` of an event, formatted once and written to every stream it goes to. */
const frames = new WeakMap<LoggedEvent, string>();
function frameOf(event: LoggedEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    // JSON.stringify never emits a raw line break, so the payload is one data: line.
    frame = `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

/** Where a stream starts: live only, or after a known position (replay first), or from the start after a reset. */
export type StreamStart = (
  | { kind: 'live'; after: EventPosition | null }
  | { kind: 'resume'; after: EventPosition }
  | { kind: 'reset'; lastEventId: string; after: EventPosition }
) & {
  /** The table's safe head when the stream opened (lets an idle hub skip what nobody was listening to). */
  safeHead: EventPosition | null;
};

/**
 * One SSE client, written to directly: one write of a preformatted frame per event (Nest's @Sse pipeline costs
 * several times more per message, which decides how many clients an instance can serve). While the stream
 * replays from the table, live events from the hub wait in a buffer; afterwards both go through send(), which
 * drops anything at or before the stream's cursor: no gap, no duplicate.
 */
/** Why a stream ended, in its closing log line. */
export type CloseReason = 'client_closed' | 'shutdown' | 'slow_client' | 'replay_failed' | 'authentication_ended';

export class SseConnection implements EventSink, AuthorityBound {
  private cursor: EventPosition | null = null;
  private buffer: LoggedEvent[] | null = [];
  private closed = false;
  private readonly openedAt = performance.now();
  private eventsSent = 0;

  constructor(
    readonly user: AuthenticatedUser,
    private readonly filter: StreamFilter,
    private readonly res: ServerResponse,
    private readonly hub: EventHub,
    private readonly repo: EventsRepository,
    private readonly authority: StreamAuthority,
  ) {}

  start(start: StreamStart): void {
    const socket = this.res.socket;
    socket?.setNoDelay(true);
    socket?.setKeepAlive(true);
    socket?.setTimeout(0);
    const head = this.hub.attach(this, start.safeHead);
    // A live stream says where it starts, so a client that drops before its first event can still resume from
    // there with Last-Event-ID (what a live-only start would otherwise lose).
    const liveFrom =
      start.kind === 'live' ? (start.after && comparePositions(start.after, head) > 0 ? start.after : head) : null;
    this.res.writeHead(
      200,
      liveFrom && liveFrom.id > 0n ? { ...SSE_HEADERS, 'X-Last-Event-ID': liveFrom.id.toString() } : SSE_HEADERS,
    );
    this.authority.bind(this);
    log.info('Event stream opened', {
      user_id: this.user.id,
      start: start.kind,
      job_id: this.filter.jobId,
      types: this.filter.types ? [...this.filter.types].join(',') : null,
    });
    // At once: headers and a first comment, so EventSource reports the connection open.
    this.write(': connected\n\n');
    if (start.kind === 'live') {
      // The table's head may be ahead of this instance's fan-out: what committed before the request is not live.
      this.cursor = liveFrom;
      this.flush();
      return;
    }
    if (start.kind === 'reset') {
      // id 0 is never an event: a client that reconnects with it is reset again and replays what is kept.
      const data = JSON.stringify({
        type: RESET_EVENT,
        last_event_id: start.lastEventId,
        message: 'Last-Event-ID is older than the retained events; replaying every event still kept',
      });
      this.write(`id: 0\nevent: ${RESET_EVENT}\ndata: ${data}\n\n`);
    }
    this.cursor = start.after;
    void this.replay(start.after, head);
  }

  deliver(events: readonly LoggedEvent[]): void {
    if (this.closed) return;
    if (this.buffer) {
      for (const event of events) if (this.wants(event)) this.buffer.push(event);
      return;
    }
    this.send(events);
  }

  heartbeat(): void {
    this.write(': heartbeat\n\n');
  }

  /** The key or the user lost the authority this stream was opened with: a last `error` event, then the end. */
  endAuthority(why: string): void {
    if (this.closed) return;
    const data = JSON.stringify({
      type: 'error',
      error: 'authentication_error',
      message: `Event stream ended: ${why}`,
    });
    this.res.write(`event: error\ndata: ${data}\n\n`);
    this.close('authentication_ended');
  }

  /** Ends the stream (shutdown by default); the response's close event then finds it disposed. */
  close(reason: CloseReason = 'shutdown'): void {
    if (this.closed) return;
    this.dispose(reason);
    this.res.end();
  }

  /** Releases everything the stream holds in the hub; runs on close, disconnect or a dropped slow client. */
  dispose(reason: CloseReason = 'client_closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = null;
    this.hub.detach(this);
    this.authority.release(this);
    log.info('Event stream closed', {
      user_id: this.user.id,
      reason,
      duration_ms: Math.round(performance.now() - this.openedAt),
      events_sent: this.eventsSent,
    });
  }

  private write(text: string): void {
    if (this.closed) return;
    this.res.write(text);
    if (this.res.writableLength > MAX_PENDING_BYTES) {
      log.warning('An event stream client is not reading; dropping it', {
        user_id: this.user.id,
        pending_bytes: this.res.writableLength,
      });
      this.dispose('slow_client');
      this.res.destroy();
    }
  }

  private wants(event: LoggedEvent): boolean {
    return canSee(this.user, event) && matchesFilter(this.filter, event);
  }

  /** Writes the wanted events after the cursor in one write: under load a read carries many, and writes dominate. */
  private send(events: readonly LoggedEvent[]): void {
    let text = '';
    for (const event of events) {
      if (this.cursor !== null && comparePositions(event.position, this.cursor) <= 0) continue;
      this.cursor = event.position;
      if (this.wants(event)) {
        text += frameOf(event);
        this.eventsSent++;
      }
    }
    if (text) this.write(text);
  }

  private flush(): void {
    const waiting = this.buffer ?? [];
    this.buffer = null;
    this.send(waiting);
  }

  /** Reads (after, upTo] from the table; everything after upTo arrives from the hub into the buffer meanwhile. */
  private async replay(after: EventPosition, upTo: EventPosition): Promise<void> {
    try {
      let from = after;
      while (comparePositions(from, upTo) < 0) {
        const page = await this.repo.readRange(this.user, this.filter, from, upTo, REPLAY_PAGE);
        if (this.closed) return;
        this.send(page);
        if (page.length < REPLAY_PAGE) break;
        from = page[page.length - 1].position;
      }
      this.flush();
    } catch (error) {
      if (this.closed) return;
      // Ending the stream makes the client reconnect with its Last-Event-ID and try again.
      log.warning('Replaying events failed; closing the stream', { error, user_id: this.user.id });
      this.close('replay_failed');
    }
  }
}
