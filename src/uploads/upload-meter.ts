import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { ClientGoneError, PayloadTooLargeError } from './upload-errors';

/**
 * A request body on its way to where it is kept: counted, hashed, and cut off past the limit, chunk by chunk (never
 * gathered). Whatever reads `stream` sets the pace: when it stops, the request is read no further (TCP back-pressure
 * reaches the client).
 */
export interface MeteredBody {
  /** The bytes, unchanged; fails with PayloadTooLargeError past the limit, ClientGoneError when the client leaves. */
  readonly stream: Readable;
  /** Bytes through so far. */
  readonly size: number;
  /** Hex sha256 of every byte, once the stream has ended (null before). */
  readonly sha256: string | null;
  /** Stops reading the request (after a failure on the way): the rest of it is never read. */
  detach(): void;
}

/**
 * Meters `body` (a request) into a stream of its own. The request is never destroyed from here: a failure leaves it
 * unread, so that an error can still be answered on its connection (which is then closed).
 */
export function meterBody(body: Readable, limitBytes: number, onBytes: (received: number) => void): MeteredBody {
  const hash = createHash('sha256');
  let size = 0;
  let digest: string | null = null;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > limitBytes) return done(new PayloadTooLargeError(limitBytes));
      hash.update(chunk);
      onBytes(size);
      done(null, chunk);
    },
    flush(done) {
      digest = hash.digest('hex');
      done();
    },
  });
  const detach = () => {
    body.unpipe(stream);
    body.pause();
  };
  // The client leaving shows as an error (ECONNRESET) or as a close before the end, depending on when it left.
  const gone = () => {
    if (!stream.destroyed && !stream.writableFinished) stream.destroy(new ClientGoneError());
  };
  body.on('error', gone);
  body.once('close', () => {
    if (!body.readableEnded) gone();
  });
  stream.once('error', detach);
  body.pipe(stream);
  return {
    stream,
    get size() {
      return size;
    },
    get sha256() {
      return digest;
    },
    detach,
  };
}
