import { createTransport, type Transporter } from 'nodemailer';
import type { SendResult } from './http-transport';
import { TARGET_TIMEOUT_MS } from './target-guard';

export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
  html: string;
}

/**
 * Email through SMTP (`SIMPLETUNER_SMTP_URL`, `SIMPLETUNER_SMTP_FROM`) with nodemailer, one pooled transport for the
 * app. An SMTP answer of 4xx is worth another try later; 5xx (a refused address) is final.
 */
export class MailTransport {
  private transport: Transporter | null = null;

  constructor(
    private readonly url: string | undefined,
    private readonly from: string,
  ) {}

  get configured(): boolean {
    return this.url !== undefined;
  }

  async send(msg: MailMessage): Promise<SendResult> {
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    if (!this.url)
      return {
        ok: false,
        statusCode: null,
        durationMs: 0,
        error: 'SIMPLETUNER_SMTP_URL is not set',
        excerpt: null,
        retryable: false,
        retryAfterMs: null,
      };
    if (msg.to.length === 0)
      return {
        ok: false,
        statusCode: null,
        durationMs: 0,
        error: 'No recipient has an email address',
        excerpt: null,
        retryable: false,
        retryAfterMs: null,
      };
    try {
      const info = (await this.open().sendMail({ ...msg, from: this.from })) as { response?: string };
      return {
        ok: true,
        statusCode: 250,
        durationMs: took(),
        error: null,
        excerpt: info.response?.slice(0, 1024) ?? null,
        retryable: false,
        retryAfterMs: null,
      };
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode ?? null;
      const message = err instanceof Error ? err.message : String(err);
      return {
        ok: false,
        statusCode: code,
        durationMs: took(),
        error: message.slice(0, 1024),
        excerpt: null,
        retryable: code === null || code < 500,
        retryAfterMs: null,
      };
    }
  }

  close(): void {
    this.transport?.close();
    this.transport = null;
  }

  private open(): Transporter {
    // nodemailer reads the pool and timeouts from the URL's query when given there; these are the defaults.
    this.transport ??= createTransport({
      url: this.url,
      pool: true,
      connectionTimeout: TARGET_TIMEOUT_MS,
      greetingTimeout: TARGET_TIMEOUT_MS,
      socketTimeout: TARGET_TIMEOUT_MS,
    } as Parameters<typeof createTransport>[0]);
    return this.transport;
  }
}
