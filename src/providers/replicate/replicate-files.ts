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
 * The encoder hands on chunks of up to 64 KiB as they are; a longer one it copies out of the chunk's whole backing
 * buffer from offset 0, which for a Buffer that is a view into a larger one (Node's pooled buffers) sends the wrong
 * bytes. Cut into views of at most this size, nothing is ever copied and every byte is the caller's.
 */
const PIECE_BYTES = 64 * 1024;

async function* pieces(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    for (let at = 0; at < chunk.byteLength; at += PIECE_BYTES) yield chunk.subarray(at, at + PIECE_BYTES);
  }
}

/**
 * A file whose bytes are read once, from a stream, while the request is sent: what the encoder's file-like
 * interface asks for (name, type, size, `stream()`), so no byte is buffered beyond the stream's own chunks.
 */
class StreamedFile {
  readonly lastModified = Date.now();

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    readonly name: string,
    readonly type: string,
    /** NaN when unknown: the request then goes out chunked, without a Content-Length. */
    readonly size: number,
  ) {}

  stream(): AsyncIterable<Uint8Array> {
    return pieces(this.source);
  }

  get [Symbol.toStringTag](): string {
    return 'File';
  }
}

/**
 * The multipart/form-data body of `POST /files`: the bytes as the `content` part (with their name and type),
 * streamed, and its headers (Content-Length when `size` is known).
 */
export function fileUploadBody(
  source: AsyncIterable<Uint8Array>,
  filename: string,
  contentType: string,
  size: number | null,
): { headers: Record<string, string>; body: AsyncIterable<Uint8Array> } {
  const form = new FormData();
  form.set('content', new StreamedFile(source, filename, contentType, size ?? NaN));
  const encoder = new FormDataEncoder(form);
  const headers: Record<string, string> = { 'content-type': encoder.contentType };
  if (encoder.contentLength !== undefined) headers['content-length'] = encoder.contentLength;
  return { headers, body: encoder.encode() };
}
