import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { captureOutput } from './test-logs';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message: headers and MIME body. */
  data: string;
}

export interface SmtpServer {
  url: string;
  messages: ReceivedMail[];
  waitFor(predicate: (m: ReceivedMail[]) => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A real SMTP server (smtp-server) on 127.0.0.1 in a child process, recording every message it accepts. */
export async function startSmtpServer(): Promise<SmtpServer> {
  const child = spawn(process.execPath, [path.join(__dirname, 'smtp-server.mjs')], { stdio: ['pipe', 'pipe', 'pipe'] });
  captureOutput(child.stderr, `[smtp ${child.pid}]`);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const messages: ReceivedMail[] = [];
  let buffered = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const listening = /^listening (\d+)$/.exec(line);
        if (listening) resolve(Number(listening[1]));
        else if (line.startsWith('message ')) messages.push(JSON.parse(line.slice(8)) as ReceivedMail);
      }
    });
    void exited.then(() => reject(new Error('smtp-server exited before listening')));
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async waitFor(predicate, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate(messages)) {
        if (Date.now() > until) throw new Error(`Timed out waiting for mail (${messages.length} received)`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}
