import type { MessageEvent } from '@nestjs/common';
import type { Subscriber } from 'rxjs';
import type { AuthenticatedUser } from '../auth';
import { getLogger } from '../logging';
import type { EventHub, EventSink } from './event-hub';
import { canSee, matchesFilter, StreamFilter } from './event-visibility';
import type { EventsRepository } from './events.repository';
import { comparePositions, EventPosition, LoggedEvent, RESET_EVENT } from './events.types';

const log = getLogger('simpletuner.cloud.events');
const REPLAY_PAGE = 500;

/** The message object of an event, built once and shared by every stream it goes to. */
const messages = new WeakMap<LoggedEvent, MessageEvent>();
function toMessage(event: LoggedEvent): MessageEvent {
  let message = messages.get(event);
  if (!message) {
    message = { id: event.id, type: event.type, data: JSON.stringify(event.data) };
    messages.set(event, message);
  }
  return message;
}

const CONNECTED: MessageEvent = { comment: 'connected' } as MessageEvent;
const HEARTBEAT: MessageEvent = { comment: 'heartbeat' } as MessageEvent;

/** Where a stream starts: live only, or after a known position (replay first), or from the start after a reset. */
export type StreamStart =
  | { kind: 'live'; after: EventPosition | null }
  | { kind: 'resume'; after: EventPosition }
  | { kind: 'reset'; lastEventId: string; after: EventPosition };

/**
 * One SSE client. While it replays from the table, live events from the hub wait in a buffer; afterwards
 * both go through send(), which drops anything at or before the stream's cursor: no gap, no duplicate.
 */
export class SseConnection implements EventSink {
  private cursor: EventPosition | null = null;
  private buffer: LoggedEvent[] | null = [];
  private closed = false;

  constructor(
    private readonly user: AuthenticatedUser,
    private readonly filter: StreamFilter,
    private readonly subscriber: Subscriber<MessageEvent>,
    private readonly hub: EventHub,
    private readonly repo: EventsRepository,
  ) {}

  start(start: StreamStart): void {
    const head = this.hub.attach(this);
    this.subscriber.next(CONNECTED);
    if (start.kind === 'live') {
      // The table's head may be ahead of this instance's fan-out: what committed before the request is not live.
      this.cursor = start.after && comparePositions(start.after, head) > 0 ? start.after : head;
      this.flush();
      return;
    }
    if (start.kind === 'reset') {
      // id 0 is never an event: a client that reconnects with it is reset again and replays what is kept.
      this.subscriber.next({
        id: '0',
        type: RESET_EVENT,
        data: JSON.stringify({
          type: RESET_EVENT,
          last_event_id: start.lastEventId,
          message: 'Last-Event-ID is older than the retained events; replaying every event still kept',
        }),
      });
    }
    this.cursor = start.after;
    void this.replay(start.after, head);
  }

  deliver(event: LoggedEvent): void {
    if (this.closed) return;
    if (this.buffer) {
      if (this.wants(event)) this.buffer.push(event);
      return;
    }
    this.send(event);
  }

  heartbeat(): void {
    if (!this.closed) this.subscriber.next(HEARTBEAT);
  }

  close(): void {
    if (!this.closed) this.subscriber.complete();
  }

  /** Teardown: runs once, on disconnect, completion or shutdown. */
  dispose(): void {
    this.closed = true;
    this.buffer = null;
    this.hub.detach(this);
  }

  private wants(event: LoggedEvent): boolean {
    return canSee(this.user, event) && matchesFilter(this.filter, event);
  }

  private send(event: LoggedEvent): void {
    if (this.cursor !== null && comparePositions(event.position, this.cursor) <= 0) return;
    this.cursor = event.position;
    if (this.wants(event)) this.subscriber.next(toMessage(event));
  }

  private flush(): void {
    const waiting = this.buffer ?? [];
    this.buffer = null;
    for (const event of waiting) this.send(event);
  }

  /** Reads (after, upTo] from the table; everything after upTo arrives from the hub into the buffer meanwhile. */
  private async replay(after: EventPosition, upTo: EventPosition): Promise<void> {
    try {
      let from = after;
      while (comparePositions(from, upTo) < 0) {
        const page = await this.repo.readRange(this.user, this.filter, from, upTo, REPLAY_PAGE);
        if (this.closed) return;
        for (const event of page) this.send(event);
        if (page.length < REPLAY_PAGE) break;
        from = page[page.length - 1].position;
      }
      this.flush();
    } catch (error) {
      if (this.closed) return;
      // Ending the stream makes the client reconnect with its Last-Event-ID and try again.
      log.warning('Replaying events failed; closing the stream', { error, user_id: this.user.id });
      this.close();
    }
  }
}
