import * as http from 'node:http';

/** One dispatched SSE message, as an EventSource would see it. */
export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
  /** data parsed as JSON (undefined when it is not JSON) */
  json: any;
  receivedAt: number;
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body of a non-200 answer. */
  body: any;
  messages: SseMessage[];
  comments: string[];
  /** Raw text received so far. */
  raw: string;
  ended: boolean;
  /** Resolves when the predicate holds (re-checked on every chunk), rejects after timeoutMs. */
  waitFor(pred: (s: SseStream) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  waitForMessages(count: number, timeoutMs?: number): Promise<SseMessage[]>;
  /** Destroys the connection and resolves once the socket is closed. */
  close(): Promise<void>;
}

export interface OpenSseOptions {
  key?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

/** Reads GET <path> as a raw event stream over http.get (no EventSource polyfill, nothing hidden). */
export function openSse(baseUrl: string, path = '/api/events', opts: OpenSseOptions = {}): Promise<SseStream> {
  const url = new URL(path, baseUrl);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { Accept: 'text/event-stream', ...opts.headers };
  if (opts.key) headers['X-API-Key'] = opts.key;
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      res.setEncoding('utf8');
      const waiters = new Set<() => void>();
      const notify = () => waiters.forEach((w) => w());
      let pending = '';
      let current: { id: string | null; event: string; data: string[] } = { id: null, event: 'message', data: [] };
      let lastId: string | null = null;
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: undefined,
        messages: [],
        comments: [],
        raw: '',
        ended: false,
        waitFor(pred, timeoutMs = 5000, what = 'condition') {
          return new Promise<void>((ok, fail) => {
            const check = () => {
              if (pred(stream)) {
                waiters.delete(check);
                clearTimeout(timer);
                ok();
              } else if (stream.ended) {
                waiters.delete(check);
                clearTimeout(timer);
                fail(new Error(`stream ended before ${what}; got ${stream.messages.length} messages`));
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(
                new Error(
                  `timed out after ${timeoutMs} ms waiting for ${what}; got ${stream.messages.length} messages`,
                ),
              );
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
        async waitForMessages(count, timeoutMs = 5000) {
          await stream.waitFor((s) => s.messages.length >= count, timeoutMs, `${count} messages`);
          return stream.messages.slice(0, count);
        },
        close() {
          return new Promise<void>((ok) => {
            if (req.socket?.destroyed || stream.ended) return ok();
            req.socket?.once('close', () => ok());
            req.destroy();
          });
        },
      };
      const line = (text: string) => {
        if (text === '') {
          if (current.data.length > 0) {
            const data = current.data.join('\n');
            let json: unknown;
            try {
              json = JSON.parse(data);
            } catch {
              json = undefined;
            }
            stream.messages.push({ id: lastId, event: current.event, data, json, receivedAt: Date.now() });
          }
          current = { id: null, event: 'message', data: [] };
          return;
        }
        if (text.startsWith(':')) {
          stream.comments.push(text.slice(1).trim());
          return;
        }
        const colon = text.indexOf(':');
        const field = colon < 0 ? text : text.slice(0, colon);
        let value = colon < 0 ? '' : text.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') current.data.push(value);
        else if (field === 'event') current.event = value;
        else if (field === 'id') lastId = value;
      };
      let body = '';
      res.on('data', (chunk: string) => {
        stream.raw += chunk;
        if (stream.status !== 200) {
          body += chunk;
          return;
        }
        pending += chunk;
        const parts = pending.split(/\r\n|\r|\n/);
        pending = parts.pop() ?? '';
        parts.forEach(line);
        notify();
      });
      const finish = () => {
        if (stream.ended) return;
        stream.ended = true;
        if (stream.status !== 200) {
          try {
            stream.body = JSON.parse(body);
          } catch {
            stream.body = body;
          }
        }
        notify();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      if (stream.status !== 200) {
        res.once('end', () => resolve(stream));
      } else {
        resolve(stream);
      }
    });
    req.on('error', reject);
  });
}
