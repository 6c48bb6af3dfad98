import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

/**
 * A local HTTP receiver for notification deliveries: records every request and every TCP connection (so a test can
 * tell that nothing was even attempted), and answers as `answer` says (default 200 after no delay).
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  connections = 0;
  answer: (req: ReceivedRequest, n: number) => Answer = () => ({ status: 200, body: 'ok' });
  private server: http.Server | null = null;

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const received = { headers: req.headers, body, json, at: Date.now() };
        this.requests.push(received);
        const a = this.answer(received, this.requests.length);
        const send = () => {
          res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
          res.end(a.body ?? '');
        };
        if (a.delayMs) setTimeout(send, a.delayMs);
        else send();
      });
    });
    this.server.on('connection', () => this.connections++);
    this.server.keepAliveTimeout = 500;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  reset(): void {
    this.requests.length = 0;
    this.connections = 0;
    this.answer = () => ({ status: 200, body: 'ok' });
  }

  /** Waits until `predicate` holds over the requests so far. */
  async waitFor(predicate: (r: ReceivedRequest[]) => boolean, timeoutMs = 20_000, what = 'requests'): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!predicate(this.requests)) {
      if (Date.now() > until) throw new Error(`Timed out waiting for ${what} (${this.requests.length} received)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}
