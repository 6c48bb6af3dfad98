import { Duplex } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';

const PROTOCOL_3 = 196608;
const TERMINATE = 0x58; // 'X'

/** The connection that last ran statements on each PGlite: only it may roll back what is open there. */
const lastUser = new WeakMap<PGlite, PGliteStream>();

/**
 * A connection of the `pg` driver to PGlite inside this process: given to pg as its `stream` (in place of the
 * net.Socket it would open), it hands PGlite the wire-protocol messages pg writes and pushes back what PGlite
 * answers.
 *
 * What it saves over serving PGlite on a unix socket: the kernel round trip of every write, and the per-message
 * hand-off. pg writes a parameterised query as one chunk (Parse, Bind, Describe, Execute, Sync); every complete
 * message of a chunk goes to PGlite in one call, under PGlite's exclusive lock, where a socket server runs each
 * message as its own call and answers each with its own socket write.
 *
 * PGlite is one session: the pool holds a single connection (see data-source-options.ts). A connection that goes
 * away inside a transaction rolls it back, so the next one starts clean.
 */
export class PGliteStream extends Duplex {
  private pending: Buffer = Buffer.alloc(0);
  private started = false;
  private ended = false;

  constructor(private readonly db: PGlite) {
    super();
  }

  // The net.Socket surface pg's Connection uses.
  connect(): this {
    process.nextTick(() => this.emit('connect'));
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _read(): void {
    // Answers are pushed as PGlite produces them.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.handOver([chunk], done);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    this.handOver(
      chunks.map((c) => c.chunk),
      done,
    );
  }

  override _final(done: (err?: Error | null) => void): void {
    this.finish();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.ended = true;
    this.rollBackIfOpen().then(
      () => done(err),
      (rollbackErr: unknown) => done(err ?? (rollbackErr as Error)),
    );
  }

  private handOver(chunks: Buffer[], done: (err?: Error | null) => void): void {
    if (this.ended) return done();
    const buf = Buffer.concat([this.pending, ...chunks]);
    let at = 0;
    let startup: Buffer | undefined;
    if (!this.started) {
      if (buf.length < 8) {
        this.pending = buf;
        return done();
      }
      const length = buf.readInt32BE(0);
      if (buf.length < length) {
        this.pending = buf;
        return done();
      }
      this.started = true;
      startup = buf.subarray(0, length);
      at = length;
      // pg sends no SSL request without ssl options; a cancel request (or anything but a v3 startup) has no
      // session to act on here.
      if (startup.readInt32BE(4) !== PROTOCOL_3) {
        this.finish();
        return done();
      }
    }
    // Complete messages only: a type byte, then a length that counts itself.
    let end = at;
    let terminate = false;
    while (buf.length - end >= 5) {
      const length = 1 + buf.readInt32BE(end + 1);
      if (buf.length - end < length) break;
      if (buf[end] === TERMINATE) {
        terminate = true;
        break;
      }
      end += length;
    }
    this.pending = terminate ? Buffer.alloc(0) : buf.subarray(end);
    const messages = buf.subarray(at, end);
    // In the check phase, as a socket's data would arrive: run straight from pg's write, one request's statements
    // would follow each other in microtasks and starve the HTTP server's reads (a p99 of seconds under load).
    setImmediate(() => this.execute(startup, messages, terminate, done));
  }

  private execute(
    startup: Buffer | undefined,
    messages: Buffer,
    terminate: boolean,
    done: (err?: Error | null) => void,
  ): void {
    this.db
      .runExclusive(async () => {
        lastUser.set(this.db, this);
        if (startup) this.answer(await this.db.execProtocolRaw(startup, { syncToFs: false }));
        if (messages.length > 0)
          await this.db.execProtocolRawStream(messages, { onRawData: (data) => this.answer(data) });
      })
      .then(
        () => {
          if (terminate) this.finish();
          done();
        },
        (err: unknown) => done(err as Error),
      );
  }

  private answer(data: Uint8Array): void {
    // PGlite reuses its output buffer: copy.
    if (data.length > 0 && !this.ended) this.push(Buffer.from(data));
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.push(null);
    void this.rollBackIfOpen().catch(() => undefined);
  }

  private async rollBackIfOpen(): Promise<void> {
    // exec takes PGlite's lock itself.
    if (!this.db.closed && lastUser.get(this.db) === this && this.db.isInTransaction()) await this.db.exec('ROLLBACK');
  }
}
