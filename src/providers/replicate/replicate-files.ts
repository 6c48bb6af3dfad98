import { PassThrough, Readable } from 'node:stream';
import { FormDataEncoder } from 'form-data-encoder';
import { FormData } from 'formdata-node';

/** A file of Replicate's files API, as far as this service reads it. */
export interface ReplicateFile {
  id: string;
  name?: string;
  content_type?: string;
  size?: number;
  checksums?: { sha256?: string; md5?: string } | null;
  created_at?: string;
  expires_at?: string | null;
  /** `get`: the file's URL, which a prediction input may name. */
  urls?: { get?: string } | null;
}

/**
 * A file whose bytes are a stream, read once while the request is sent: what the encoder's file-like interface asks
 * for (name, type, size, `stream()`).
 */
class StreamedFile {
  readonly lastModified = Date.now();

  constructor(
    readonly content: Readable,
    readonly name: string,
    readonly type: string,
    /** NaN when unknown: the request then goes out chunked, without a Content-Length. */
    readonly size: number,
  ) {}

  stream(): Readable {
    return this.content;
  }

  get [Symbol.toStringTag](): string {
    return 'File';
  }
}

/**
 * The multipart/form-data body of `POST /files`: `content` as the `content` part (with its name and type), and the
 * request's headers (Content-Length when `size` is known). The encoder lays out the form (boundary, part headers,
 * escaping, length); its parts are sent in order, the file's by piping `content` through as it arrives, so that
 * no chunk is copied or wrapped on the way (the encoder's own async reading costs several promises a chunk and, past
 * 64 KiB, a copy of each). A failure of `content` fails the body with the same error.
 */
export function fileUploadBody(
  content: Readable,
  filename: string,
  contentType: string,
  size: number | null,
): { headers: Record<string, string>; body: Readable } {
  const form = new FormData();
  const file = new StreamedFile(content, filename, contentType, size ?? NaN);
  form.set('content', file);
  const encoder = new FormDataEncoder(form);
  const headers: Record<string, string> = { 'content-type': encoder.contentType };
  if (encoder.contentLength !== undefined) headers['content-length'] = encoder.contentLength;
  const body = new PassThrough();
  const parts = [...encoder.values()];
  const next = (): void => {
    for (let part = parts.shift(); part !== undefined; part = parts.shift()) {
      if (part instanceof Uint8Array) {
        body.write(part);
        continue;
      }
      const stream = (part as StreamedFile).stream();
      stream.once('error', (err) => body.destroy(err));
      stream.once('end', next);
      stream.pipe(body, { end: false });
      return;
    }
    body.end();
  };
  next();
  return { headers, body };
}
