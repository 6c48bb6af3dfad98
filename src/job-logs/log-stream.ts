import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AuthenticatedUser } from '../auth';
import type { AuthorityBound } from '../events';
import { getLogger } from '../logging';
import type { LogSink } from './job-log-hub';
import type { LogText } from './log-text';

const log = getLogger('simpletuner.cloud.job_logs');
/** Text per `log` message at most: a long backlog goes out as several messages. */
const EVENT_BYTES = 256 * 1024;
/** Past this much unsent, the stream waits for the client to read before reading more of the log. */
const HIGH_WATER_BYTES = 1024 * 1024;

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-store, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

/** What a log stream reads and whom it tells it is done. */
export interface LogStreamDeps {
  /** The stored text after a provider offset (empty when there is none yet). */
  textAfter(jobId: string, from: number, maxBytes: number): Promise<LogText>;
  /** The job's status now, for the `end` message (null: the job was deleted). */
  status(jobId: string): Promise<string | null>;
  /** Called once, when the stream has ended for whatever reason. */
  released(stream: LogStream): void;
}

export type LogCloseReason = 'client_closed' | 'ended' | 'shutdown' | 'read_failed' | 'authentication_ended';

/**
 * One client of GET /api/cloud/jobs/:id/logs/stream. Its cursor is the provider offset it has sent up to; every
 * wake-up reads what is stored after it, so a message is never sent twice nor a byte skipped, and a client that
 * reconnects with the last `id:` (that offset) continues exactly there. Once the job has ended and the cursor is at
 * the end of its log, `end` and the stream closes.
 */
export class LogStream implements LogSink, AuthorityBound {
  private cursor = 0;
  private ended = false;
  private reading = false;
  private again = false;
  private closed = false;
  private sent = 0;
  private readonly openedAt = performance.now();

  constructor(
    readonly user: AuthenticatedUser,
    readonly jobId: string,
    private readonly res: ServerResponse,
    private readonly deps: LogStreamDeps,
  ) {}

  /** Headers, `: connected`, the first text (a tail) when given, then everything stored after it (or `cursor`). */
  start(cursor: number, first: LogText | null, jobEnded: boolean): void {
    const socket = this.res.socket;
    socket?.setNoDelay(true);
    socket?.setKeepAlive(true);
    socket?.setTimeout(0);
    this.res.writeHead(200, SSE_HEADERS);
    this.write(': connected\n\n');
    log.info('Job log stream opened', { user_id: this.user.id, job_id: this.jobId, from: cursor });
    this.cursor = cursor;
    this.ended = jobEnded;
    if (first && first.text) this.send(first);
    this.wake();
  }

  wake(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    void this.pump();
  }

  observe(consumed: number, terminal: boolean): void {
    const news = consumed > this.cursor || (terminal && !this.ended);
    this.ended ||= terminal;
    if (news) this.wake();
  }

  heartbeat(): void {
    this.write(': heartbeat\n\n');
  }

  endAuthority(why: string): void {
    if (this.closed) return;
    const data = JSON.stringify({ type: 'error', error: 'authentication_error', message: `Log stream ended: ${why}` });
    this.res.write(`event: error\ndata: ${data}\n\n`);
    this.close('authentication_ended');
  }

  close(reason: LogCloseReason = 'shutdown'): void {
    if (this.closed) return;
    this.dispose(reason);
    this.res.end();
  }

  /** Releases what the stream holds; on close, on the client leaving, on a failed read. */
  dispose(reason: LogCloseReason = 'client_closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.released(this);
    log.info('Job log stream closed', {
      user_id: this.user.id,
      job_id: this.jobId,
      reason,
      duration_ms: Math.round(performance.now() - this.openedAt),
      bytes_sent: this.sent,
    });
  }

  private async pump(): Promise<void> {
    try {
      do {
        this.again = false;
        // Whether the job had ended is known before the read: what it stored before ending is in this read.
        const ended = this.ended;
        await this.sendAvailable();
        if (ended && !this.closed) return await this.finish();
      } while (this.again && !this.closed);
    } catch (error) {
      if (this.closed) return;
      // Ending the stream makes the client reconnect with its Last-Event-ID and continue from there.
      log.warning('Reading a job log for its stream failed; closing the stream', { error, job_id: this.jobId });
      this.close('read_failed');
    } finally {
      this.reading = false;
    }
  }

  private async sendAvailable(): Promise<void> {
    for (;;) {
      const text = await this.deps.textAfter(this.jobId, this.cursor, EVENT_BYTES);
      if (this.closed || text.next <= this.cursor) return;
      this.send(text);
      if (this.res.writableLength > HIGH_WATER_BYTES) {
        await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
      }
    }
  }

  private async finish(): Promise<void> {
    const status = await this.deps.status(this.jobId);
    if (this.closed) return;
    const data = JSON.stringify({ type: 'end', job_id: this.jobId, status, next_offset: this.cursor });
    this.write(`event: end\ndata: ${data}\n\n`);
    this.close('ended');
  }

  private send(text: LogText): void {
    this.cursor = text.next;
    this.sent += Buffer.byteLength(text.text);
    // JSON.stringify never emits a raw line break, so the payload is one data: line.
    const data = JSON.stringify({ type: 'log', offset: text.offset, next_offset: text.next, text: text.text });
    this.write(`id: ${text.next}\nevent: log\ndata: ${data}\n\n`);
  }

  private write(frame: string): void {
    if (this.closed) return;
    this.res.write(frame);
  }
}
