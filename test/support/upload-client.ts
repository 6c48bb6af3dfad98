import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';

/** An answer read off a raw request. */
export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** An upload on a raw HTTP request, so a test controls every byte sent, when, and when the client leaves. */
export interface RawUpload {
  req: http.ClientRequest;
  /** The answer, whenever it comes (also while the body is still being sent); rejects when none can come. */
  answer: Promise<RawAnswer>;
  /** Writes one chunk, waiting for the socket to drain; false once the request is finished or broken. */
  write(chunk: Buffer): Promise<boolean>;
  /** The client leaves: the socket is destroyed mid-request. */
  leave(): void;
}

/** Starts `POST <path>` with these headers; the body is written by the test. No Content-Length: sent chunked. */
export function startUpload(
  baseUrl: string,
  path: string,
  opts: { key: string; contentType?: string; contentLength?: number },
): RawUpload {
  const headers: Record<string, string> = { 'X-API-Key': opts.key };
  if (opts.contentType !== undefined) headers['Content-Type'] = opts.contentType;
  if (opts.contentLength !== undefined) headers['Content-Length'] = String(opts.contentLength);
  const req = http.request(new URL(path, baseUrl), { method: 'POST', headers, agent: false });
  let answered = false;
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
  });
  // A test that leaves never reads the answer: keep its rejection from going unhandled.
  answer.catch(() => undefined);
  req.flushHeaders();
  return {
    req,
    answer,
    async write(chunk) {
      if (answered || req.destroyed || req.writableEnded) return false;
      if (!req.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            req.off('drain', done);
            req.off('close', done);
            resolve();
          };
          req.on('drain', done);
          req.on('close', done);
        });
      }
      return !req.destroyed;
    },
    leave() {
      req.destroy();
    },
  };
}

/** Random bytes standing in for an archive, and their sha256. */
export function archive(bytes: number): { data: Buffer; sha256: string } {
  const data = randomBytes(bytes);
  return { data, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Polls `check` until it holds (or throws after `timeoutMs`). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'it',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
