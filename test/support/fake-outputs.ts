import { createHash } from 'node:crypto';
import type * as http from 'node:http';

/** How the fake serves one output file. */
export interface OutputFile {
  /** Bytes of the file (default 4 KiB); its content is a pattern derived from the path (see bytes()). */
  size?: number;
  /** Sent in chunks of this many bytes (default 64 KiB)… */
  chunkSize?: number;
  /** …with this pause between two chunks: a slow source. */
  chunkDelayMs?: number;
  /** The next `failTimes` requests answer `status` (default 500) instead of the file. */
  failTimes?: number;
  status?: number;
  /** After this many bytes the connection is cut (Content-Length still announces the whole file). */
  cutAfter?: number;
  /** Answer 302 to this URL instead. */
  redirectTo?: string;
  contentType?: string;
}

export interface OutputRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  at: number;
}

const BLOCK = 64 * 1024;
const DEFAULT_SIZE = 4096;

/** A 64 KiB block derived from the path: files are different per path and need no memory to serve. */
function blockOf(path: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  let digest = createHash('sha256').update(path).digest();
  for (let at = 0; at < BLOCK; at += digest.length) {
    digest.copy(block, at);
    digest = createHash('sha256').update(digest).digest();
  }
  return block;
}

/**
 * The output files of the fake Replicate, like replicate.delivery serves them: `GET /files/<anything>` without a
 * token. A path nobody configured serves 4 KiB; `serve()` sets a file's size, pace and failures. Requests are
 * logged in `requests`, apart from the API's own log.
 */
export class FakeOutputs {
  readonly requests: OutputRequest[] = [];
  private readonly files = new Map<string, OutputFile>();
  private readonly sockets = new Set<http.ServerResponse>();

  serve(path: string, file: OutputFile): void {
    this.files.set(path, { ...file });
  }

  /** The bytes `GET path` serves (for small files: tests compare them with what was stored). */
  bytes(path: string): Buffer {
    const size = this.files.get(path)?.size ?? DEFAULT_SIZE;
    const block = blockOf(path);
    const out = Buffer.alloc(size);
    for (let at = 0; at < size; at += BLOCK) block.copy(out, at, 0, Math.min(BLOCK, size - at));
    return out;
  }

  /** Requests for `path` (or for any file). */
  count(path?: string): number {
    return this.requests.filter((r) => path === undefined || r.path === path).length;
  }

  reset(): void {
    this.requests.length = 0;
    this.files.clear();
    for (const res of this.sockets) res.destroy();
  }

  /** Answers a request for an output file; false when the path is not one (the API answers it). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || !path.startsWith('/files/')) return false;
    this.requests.push({ path, headers: req.headers, at: Date.now() });
    const file = this.files.get(path) ?? {};
    if (file.failTimes && file.failTimes > 0) {
      file.failTimes--;
      res.writeHead(file.status ?? 500, { 'content-type': 'text/plain' }).end('fake output failure');
    } else if (file.redirectTo) {
      res.writeHead(302, { location: file.redirectTo }).end();
    } else {
      void this.send(path, file, res);
    }
    return true;
  }

  private async send(path: string, file: OutputFile, res: http.ServerResponse): Promise<void> {
    const size = file.size ?? DEFAULT_SIZE;
    const chunk = file.chunkSize ?? BLOCK;
    const block = blockOf(path);
    this.sockets.add(res);
    res.on('close', () => this.sockets.delete(res));
    res.writeHead(200, {
      'content-type': file.contentType ?? 'application/octet-stream',
      'content-length': String(size),
    });
    for (let at = 0; at < size && !res.destroyed; at += chunk) {
      if (file.cutAfter !== undefined && at >= file.cutAfter) return void res.destroy();
      const n = Math.min(chunk, size - at);
      const part = Buffer.alloc(n);
      for (let i = 0; i < n;) {
        const off = (at + i) % BLOCK;
        const len = Math.min(BLOCK - off, n - i);
        block.copy(part, i, off, off + len);
        i += len;
      }
      if (!res.write(part)) await new Promise((r) => res.once('drain', r));
      if (file.chunkDelayMs) await new Promise((r) => setTimeout(r, file.chunkDelayMs));
    }
    res.end();
  }
}
