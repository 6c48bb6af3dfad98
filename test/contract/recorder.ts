import * as fs from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import * as path from 'node:path';

/**
 * Records every response a test app gives, for the contract check (test/contract/contract-reporter.js): the folder
 * comes from the reporter through CONTRACT_RECORD_DIR; each Jest worker appends to its own file, one JSON line per
 * response, so parallel workers never share a file.
 */
const RECORD_DIR_ENV = 'CONTRACT_RECORD_DIR';

/** What one response looked like; `body` is kept for JSON responses only. */
export interface RecordedResponse {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  body?: unknown;
  /** The body was not valid JSON although its type said so. */
  invalidJson?: string;
  /** The start of an event stream's text (its first STREAM_BYTES). */
  stream?: string;
  testPath: string;
}

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\b/i;
const STREAM_TYPE = /^text\/event-stream\b/i;
/** Enough of a stream for its events to be checked, without keeping a long one whole. */
const STREAM_BYTES = 256 * 1024;

function currentTestPath(): string {
  const state = (globalThis as { expect?: { getState(): { testPath?: string } } }).expect?.getState();
  return state?.testPath ? path.relative(process.cwd(), state.testPath) : 'unknown';
}

/** Starts recording the responses of `server` when the contract reporter asked for it. */
export function recordResponses(server: Server): void {
  const dir = process.env[RECORD_DIR_ENV];
  if (!dir || !fs.existsSync(dir)) return;
  const file = path.join(dir, `worker-${process.env.JEST_WORKER_ID ?? '0'}-${process.pid}.ndjson`);
  const testPath = currentTestPath();
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    // Read now: mounted middleware (static files, the webhook's body parser) rewrites req.url on the way.
    const method = req.method ?? 'GET';
    const requestPath = (req.url ?? '/').split('?')[0];
    const chunks: Buffer[] = [];
    let kept = 0;
    const kind = () => {
      const type = String(res.getHeader('content-type') ?? '');
      if (res.getHeader('content-encoding')) return null;
      return JSON_TYPE.test(type) ? 'json' : STREAM_TYPE.test(type) ? 'stream' : null;
    };
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const what = kind();
      if (!what || (what === 'stream' && kept >= STREAM_BYTES)) return;
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding as BufferEncoding);
      chunks.push(buffer);
      kept += buffer.length;
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((...args: unknown[]) => {
      keep(args[0], typeof args[1] === 'string' ? args[1] : undefined);
      return write(...args);
    }) as ServerResponse['write'];
    res.end = ((...args: unknown[]) => {
      keep(args[0], typeof args[1] === 'string' ? args[1] : undefined);
      return end(...args);
    }) as ServerResponse['end'];
    res.once('close', () => {
      if (!res.headersSent) return; // the client left before any answer
      const contentType = (res.getHeader('content-type') as string | undefined) ?? null;
      const record: RecordedResponse = {
        method,
        path: requestPath,
        status: res.statusCode,
        contentType,
        testPath,
      };
      if (chunks.length > 0 && kind() === 'stream') {
        record.stream = Buffer.concat(chunks).subarray(0, STREAM_BYTES).toString('utf8');
      } else if (chunks.length > 0) {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          record.body = JSON.parse(text);
        } catch {
          record.invalidJson = text.slice(0, 200);
        }
      }
      fs.appendFileSync(file, `${JSON.stringify(record)}\n`);
    });
  });
}
